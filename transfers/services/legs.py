"""The saga's steps after acceptance: a leg starts, then its definitive result is recorded.

The relay calls these from its short transactions (transfers/outbox_handlers.py): `transfer_leg_start` when it
first claims a leg's outbox row, and the leg's record service once core's answer is definitive
(transfers/core_answers.py decides that). Each record service is one atomic block that appends the step's two
events (the leg's `*_PROCESSED` and what follows), updates the read model (hold released, posting applied) and
enqueues the next outbox row: the next leg, or the customer's mail.

    withdrawal applied  → WITHDRAW_PROCESSED ok + DepositRequested       posting on the source, deposit row
    withdrawal refused  → WITHDRAW_PROCESSED failed + TransferFailed     hold released, failure mail
    deposit applied     → DEPOSIT_PROCESSED ok + TransferCompleted       posting on the target, completion mail
    deposit refused     → DEPOSIT_PROCESSED failed + CompensationRequested   refund row
    refund applied      → COMPENSATION_PROCESSED ok + TransferCompensated    posting on the source, mail

Lock order everywhere: the `Transfer` projection row, then the read-model `AccountBalance` row that the step
changes. Each step checks its events against saga.TRANSITIONS before writing, so a duplicate relay result is a
no-op and an illegal transition can never be written. No network call happens in here.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from balance.services import Posting, account_hold_release, accounts_lock, transfer_leg_posting_apply
from config.api import iso_time
from config.observability import metrics
from outbox.eventstore.services import NewEvent, event_append
from outbox.services import outbox_enqueue
from transfers import events as ev
from transfers import saga
from transfers.core_answers import LegResult
from transfers.errors import TransferNotFoundError
from transfers.models import Transfer

logger = logging.getLogger("bank.transfers")


def transfer_lock(*, transaction_id: str) -> Transfer:
    """The transfer row, locked until the transaction ends (every step and operator action takes it first)."""
    transfer = Transfer.objects.select_for_update().filter(transaction_id=transaction_id).first()
    if transfer is None:
        raise TransferNotFoundError("Transfer not found", extra={"transactionId": transaction_id})
    return transfer


def _locked_open_leg(*, transaction_id: str, leg: str) -> Transfer | None:
    """The transfer, locked, if `leg` still waits for its result; None when it was recorded before (a
    duplicate delivery or a replay), which makes the step a no-op."""
    transfer = transfer_lock(transaction_id=transaction_id)
    if transfer.phase not in saga.LEG_OPEN_PHASES[leg]:
        logger.info("transfer %s: %s result ignored in phase %s (duplicate)", transaction_id, leg, transfer.phase)
        return None
    return transfer


def _step_follow_up_version(transfer: Transfer) -> int:
    """Every step appends two events, the leg's result and what follows; the second is at version + 2."""
    return transfer.version + 2


def _checked(transfer: Transfer, events: list[NewEvent]) -> list[NewEvent]:
    """`events` after checking them against the saga table (before any write of the step)."""
    saga.phase_after(transfer.phase, [(event.type, event.status) for event in events])
    return events


# The terminal events of an accepted transfer and the outcome label they are counted under (/metrics).
TERMINAL_OUTCOMES = {ev.TRANSFER_COMPLETED: "completed", ev.TRANSFER_FAILED: "failed",
                     ev.TRANSFER_COMPENSATED: "compensated"}


def _append(*, transfer: Transfer, events: list[NewEvent], actor: str, outside_transaction: bool = False) -> list:
    """Append the step's checked events at the transfer's next versions (the step's last write). A terminal
    event is counted (with the time since acceptance) once the step commits."""
    appended = event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=transfer.aggregate_id,
                            expected_version=transfer.version, events=events, actor=actor,
                            correlation_id=transfer.transaction_id, row_in_hand=transfer,
                            outside_transaction=outside_transaction)
    for event in events:
        if event.type in TERMINAL_OUTCOMES:
            seconds = (timezone.now() - transfer.created_at).total_seconds()
            transaction.on_commit(partial(metrics.transfer_terminal_observe, outcome=TERMINAL_OUTCOMES[event.type],
                                          seconds=seconds))
    return appended


def _processed(leg: str, result: LegResult) -> NewEvent:
    event_type = {ev.LEG_WITHDRAW: ev.WITHDRAW_PROCESSED, ev.LEG_DEPOSIT: ev.DEPOSIT_PROCESSED,
                  ev.LEG_REFUND: ev.COMPENSATION_PROCESSED}[leg]
    status = ev.STATUS_COMPLETED if result.success else ev.STATUS_FAILED
    return NewEvent(type=event_type, status=status, leg=leg, data=result.processed_data())


def _leg_requested(transfer: Transfer, follow_up: ev.LegRequestedData) -> NewEvent:
    return NewEvent(type=follow_up.event_type, status=follow_up.status, leg=follow_up.leg,
                    data=follow_up.event_data())


def _leg_enqueue(transfer: Transfer, follow_up: ev.LegRequestedData) -> None:
    outbox_enqueue(key=follow_up.outbox_key, kind=follow_up.kind, aggregate_id=transfer.aggregate_id,
                   event_version=follow_up.version, event_type=follow_up.event_type,
                   payload=follow_up.outbox_payload())


def _ended(transfer: Transfer, event_type: str, *, reason: str = "") -> ev.TransferEndedData:
    return ev.TransferEndedData(
        event_type=event_type, transaction_id=transfer.transaction_id, aggregate_id=transfer.aggregate_id,
        version=_step_follow_up_version(transfer), source_account_id=transfer.source_account_id,
        target_account_id=transfer.target_account_id, amount=transfer.amount, at=iso_time(timezone.now()),
        reason=reason)


def _ended_event(ended: ev.TransferEndedData, *, leg: str) -> NewEvent:
    status = {ev.TRANSFER_COMPLETED: ev.STATUS_COMPLETED, ev.TRANSFER_FAILED: ev.STATUS_FAILED,
              ev.TRANSFER_COMPENSATED: ev.STATUS_COMPENSATED}[ended.event_type]
    return NewEvent(type=ended.event_type, status=status, leg=leg, data=ended.event_data())


def _mail_enqueue(transfer: Transfer, ended: ev.TransferEndedData, *, kind: str, **payload: str) -> None:
    """The payer's mail about how the transfer ended (sent at most once, by the notify queue)."""
    outbox_enqueue(key=ev.outbox_key(kind, transfer.transaction_id), kind=kind, aggregate_id=transfer.aggregate_id,
                   event_version=ended.version, event_type=ended.event_type,
                   payload={"transactionId": transfer.transaction_id, **payload})


def _accepted_day(transfer: Transfer) -> dt.date:
    """The day (bank time zone) whose daily limit the transfer was counted against when it was accepted."""
    return timezone.localtime(transfer.created_at).date()


def _posting_timestamp(raw: str) -> dt.datetime:
    parsed = parse_datetime(raw) if raw else None
    return parsed if parsed is not None else timezone.now()


def _posting(transfer: Transfer, result: LegResult, *, leg: str, account_id: str, amount: int) -> Posting:
    """The read model's copy of core's posting for this leg."""
    core_type = {ev.LEG_WITHDRAW: "TRANSFER_WITHDRAWAL", ev.LEG_DEPOSIT: "TRANSFER_DEPOSIT",
                 ev.LEG_REFUND: ev.CORE_TYPE_REFUND}[leg]
    counterparty = {"target_account_id": transfer.target_account_id} if leg == ev.LEG_WITHDRAW else \
        {"source_account_id": transfer.target_account_id if leg == ev.LEG_REFUND else transfer.source_account_id}
    return Posting(core_transaction_id=result.core_transaction_id, account_id=account_id, type=core_type,
                   amount=amount, timestamp=_posting_timestamp(result.timestamp),
                   description=ev.core_description(leg, transfer.transaction_id), transfer_id=transfer.transaction_id,
                   **counterparty)


def transfer_leg_start(*, transaction_id: str, leg: str, actor: str) -> bool:
    """First claim of a leg's row: PROCESSING_STARTED → `processing` (leg set). No-op when the leg already
    started (a retry or a replay). Returns True when an event was appended.

    Called with no transaction open. Its only write is one event and the projection row, which the append makes
    atomic by itself (one statement on PostgreSQL), so the transfer is read without a lock: if it moved after the
    read (an operator action), the append's head check refuses the event with ConcurrencyError and the relay
    records a retryable attempt."""
    transfer = Transfer.objects.filter(transaction_id=transaction_id).first()
    if transfer is None:
        raise TransferNotFoundError("Transfer not found", extra={"transactionId": transaction_id})
    requested = {ev.LEG_WITHDRAW: saga.WITHDRAW_REQUESTED, ev.LEG_DEPOSIT: saga.DEPOSIT_REQUESTED,
                 ev.LEG_REFUND: saga.COMPENSATION_REQUESTED}[leg]
    if transfer.phase != requested:
        return False
    events = _checked(transfer, [NewEvent(type=ev.PROCESSING_STARTED, status=ev.STATUS_PROCESSING, leg=leg,
                                          data={"leg": leg})])
    _append(transfer=transfer, actor=actor, events=events, outside_transaction=True)
    return True


@transaction.atomic(savepoint=False)  # inside the relay's settle transaction: no savepoint of its own
def transfer_withdrawal_record(*, transaction_id: str, result: LegResult, actor: str) -> bool:
    """Record core's definitive answer to the withdrawal. Applied: the source's hold becomes a posting and the
    deposit is requested. Refused: the hold is released, the transfer failed and the payer is told.
    Returns False (and writes nothing) when the result was already recorded."""
    transfer = _locked_open_leg(transaction_id=transaction_id, leg=ev.LEG_WITHDRAW)
    if transfer is None:
        return False
    if result.success:
        deposit = ev.LegRequestedData(
            leg=ev.LEG_DEPOSIT, transaction_id=transfer.transaction_id, aggregate_id=transfer.aggregate_id,
            version=_step_follow_up_version(transfer), account_id=transfer.target_account_id,
            counterparty_account_id=transfer.source_account_id, amount=transfer.amount,
            timestamp=iso_time(timezone.now()))
        events = _checked(transfer, [_processed(ev.LEG_WITHDRAW, result), _leg_requested(transfer, deposit)])
        transfer_leg_posting_apply(posting=_posting(transfer, result, leg=ev.LEG_WITHDRAW,
                                                    account_id=transfer.source_account_id, amount=-transfer.amount),
                                   hold_release=transfer.amount)
        _leg_enqueue(transfer, deposit)
    else:
        failed = _ended(transfer, ev.TRANSFER_FAILED, reason=result.error_code or "WITHDRAW_REFUSED")
        events = _checked(transfer, [_processed(ev.LEG_WITHDRAW, result),
                                     _ended_event(failed, leg=ev.LEG_WITHDRAW)])
        source = accounts_lock(account_ids=[transfer.source_account_id]).get(transfer.source_account_id)
        if source is not None:
            account_hold_release(account=source, amount=transfer.amount, uncount_day=_accepted_day(transfer))
        _mail_enqueue(transfer, failed, kind=ev.KIND_MAIL_FAILED, outcome="failed", reason=result.error_code,
                      message=result.error_message)
    _append(transfer=transfer, actor=actor, events=events)
    return True


@transaction.atomic(savepoint=False)  # inside the relay's settle transaction: no savepoint of its own
def transfer_deposit_record(*, transaction_id: str, result: LegResult, actor: str) -> bool:
    """Record core's definitive answer to the deposit. Applied: a posting on the target, the transfer completed
    and the payer is told. Refused (its key already voided, so it can never apply): the refund is requested.
    Returns False (and writes nothing) when the result was already recorded."""
    transfer = _locked_open_leg(transaction_id=transaction_id, leg=ev.LEG_DEPOSIT)
    if transfer is None:
        return False
    if result.success:
        completed = _ended(transfer, ev.TRANSFER_COMPLETED)
        events = _checked(transfer, [_processed(ev.LEG_DEPOSIT, result),
                                     _ended_event(completed, leg=ev.LEG_DEPOSIT)])
        transfer_leg_posting_apply(posting=_posting(transfer, result, leg=ev.LEG_DEPOSIT,
                                                    account_id=transfer.target_account_id, amount=transfer.amount))
        _mail_enqueue(transfer, completed, kind=ev.KIND_MAIL_COMPLETED, outcome="completed")
    else:
        refund = ev.LegRequestedData(
            leg=ev.LEG_REFUND, transaction_id=transfer.transaction_id, aggregate_id=transfer.aggregate_id,
            version=_step_follow_up_version(transfer), account_id=transfer.source_account_id,
            counterparty_account_id=transfer.target_account_id, amount=transfer.amount,
            timestamp=iso_time(timezone.now()), reason=result.error_code or "DEPOSIT_REFUSED")
        events = _checked(transfer, [_processed(ev.LEG_DEPOSIT, result), _leg_requested(transfer, refund)])
        _leg_enqueue(transfer, refund)
    _append(transfer=transfer, actor=actor, events=events)
    return True


@transaction.atomic(savepoint=False)  # inside the relay's settle transaction: no savepoint of its own
def transfer_refund_record(*, transaction_id: str, result: LegResult, actor: str) -> bool:
    """Record that core applied the refund: a posting back on the source, the transfer compensated and the payer
    told. A refund is never given up: a refusal is retried by its handler, so it never reaches this service
    (saga.IllegalTransitionError if it did). Returns False when the result was already recorded."""
    transfer = _locked_open_leg(transaction_id=transaction_id, leg=ev.LEG_REFUND)
    if transfer is None:
        return False
    if not result.success:
        raise saga.IllegalTransitionError("a refund leg cannot end unsuccessfully by itself")
    compensated = _ended(transfer, ev.TRANSFER_COMPENSATED)
    events = _checked(transfer, [_processed(ev.LEG_REFUND, result), _ended_event(compensated, leg=ev.LEG_REFUND)])
    transfer_leg_posting_apply(posting=_posting(transfer, result, leg=ev.LEG_REFUND,
                                                account_id=transfer.source_account_id, amount=transfer.amount),
                               uncount_day=_accepted_day(transfer))
    _mail_enqueue(transfer, compensated, kind=ev.KIND_MAIL_FAILED, outcome="compensated")
    _append(transfer=transfer, actor=actor, events=events)
    return True


LEG_RECORDERS = {ev.LEG_WITHDRAW: transfer_withdrawal_record, ev.LEG_DEPOSIT: transfer_deposit_record,
                 ev.LEG_REFUND: transfer_refund_record}
