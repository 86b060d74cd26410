"""Every state change of a transfer (flows.md R5–R7, R20–R30, R38): one transaction each.

Lock order everywhere: the `Transfer` projection row, then the read-model `AccountBalance` row(s) that the
step changes (ascending account id), then (inside `event_append`) the event position counter. The counter
serialises every event-writing transaction until its commit, so each step does all its other writes first
and appends its events last: the shared lock is held for the append, the projection and the commit only.
Each step checks its
events against saga.TRANSITIONS before appending, so a duplicate relay result is a no-op and an
illegal transition can never be written. Network calls to core happen only outside transactions
(the relay's `deliver`, or before the operator services open theirs).
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from balance.selectors import account_find
from balance.services import Posting, account_hold_place, account_hold_release, accounts_lock, posting_apply
from config.api import iso_time
from config.errors import ApplicationError, ConflictError, NotFoundError
from config.observability import metrics, tracing
from config.observability.logs import log_context_bind
from outbox import core_client
from outbox.idempotency import StoredAnswer, request_fingerprint, request_idempotency_claim, \
    request_idempotency_store
from outbox.models import OutboxMessage, OutboxStatus
from outbox.services import NewEvent, event_append, outbox_enqueue, outbox_resolve
from transfers import events as ev
from transfers import saga
from transfers.models import Transfer, TransferOperatorAction

logger = logging.getLogger("bank.transfers")

ACCEPTED_MESSAGE = "振込依頼を受け付けました"
INVALID_REQUEST_MESSAGE = "Invalid request. Required fields: sourceAccountId, targetAccountId, amount > 0"
SOURCE_NOT_FOUND_MESSAGE = "送金元口座が見つかりません。口座番号をご確認ください。"
TARGET_NOT_FOUND_MESSAGE = "送金先口座が見つかりません。口座番号をご確認ください。"
INSUFFICIENT_MESSAGE = "口座残高が不足しております。振込金額をご確認してください。"
IDEMPOTENCY_SCOPE = "transfer"


# --- errors -------------------------------------------------------------------------------------------


class TransferInvalidError(ApplicationError):
    code = "INVALID_TRANSFER"
    http_status = 400


class TransferForbiddenError(ApplicationError):
    """The source account is not the caller's (api.md §8): nothing is written."""

    code = "SOURCE_ACCOUNT_FORBIDDEN"
    http_status = 403


class InsufficientFundsError(ApplicationError):
    """Available balance (ledger − holds) is below the amount; a TransferRejected event was committed."""

    code = "INSUFFICIENT_BALANCE"
    http_status = 400


class TransferNotFoundError(NotFoundError):
    code = "TRANSFER_NOT_FOUND"


class LegStillInFlightError(ConflictError):
    """The leg's outbox row is not dead-lettered: wait for it, or for its dead letter."""

    code = "LEG_IN_FLIGHT"


class CoreUnavailableError(ApplicationError):
    code = "CORE_UNAVAILABLE"
    http_status = 503


# --- request ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferRequestInput:
    """The request as validated for the domain (amount in yen, description defaulted)."""

    source_account_id: str
    target_account_id: str
    amount_yen: int
    description: str


def transfer_request_validate(*, body: Any) -> TransferRequestInput:
    """Shape and limits of a transfer request (R5, api.md §8): a clear 400 for each refusal."""
    if not isinstance(body, dict):
        raise TransferInvalidError(INVALID_REQUEST_MESSAGE)
    source, target, amount = body.get("sourceAccountId"), body.get("targetAccountId"), body.get("amount")
    if not source or not target or not amount or isinstance(amount, bool):
        raise TransferInvalidError(INVALID_REQUEST_MESSAGE)
    if not isinstance(source, str) or not isinstance(target, str):
        raise TransferInvalidError("sourceAccountId and targetAccountId must be strings", code="INVALID_ACCOUNT_ID")
    if not isinstance(amount, int):
        raise TransferInvalidError("amount must be a positive integer number of yen", code="INVALID_AMOUNT")
    if amount <= 0:
        raise TransferInvalidError(INVALID_REQUEST_MESSAGE)
    if amount > settings.TRANSFER_MAX_AMOUNT:
        raise TransferInvalidError(f"amount must not exceed {settings.TRANSFER_MAX_AMOUNT} yen",
                                   code="AMOUNT_OVER_LIMIT", extra={"maxAmount": settings.TRANSFER_MAX_AMOUNT})
    if source == target:
        raise TransferInvalidError("sourceAccountId and targetAccountId must differ", code="SAME_ACCOUNT")
    description = body.get("description")
    if description is None or description == "":
        description = f"振込: {source} → {target}"
    if not isinstance(description, str):
        raise TransferInvalidError("description must be a string", code="INVALID_DESCRIPTION")
    if len(description) > settings.TRANSFER_DESCRIPTION_MAX_LENGTH or "\x00" in description:
        raise TransferInvalidError(
            f"description must be at most {settings.TRANSFER_DESCRIPTION_MAX_LENGTH} characters",
            code="DESCRIPTION_TOO_LONG", extra={"maxLength": settings.TRANSFER_DESCRIPTION_MAX_LENGTH})
    return TransferRequestInput(source_account_id=source, target_account_id=target, amount_yen=amount,
                                description=description)


@dataclass(frozen=True)
class TransferRequestAnswer:
    """What the API answers: 202 and the original body, or a replayed first answer (R30)."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def _actor_for_customer(user: Any) -> str:
    return f"user:{user.public_id or user.pk}"


def _day_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _daily_total(*, source_account_id: str, now: dt.datetime) -> int:
    """Yen accepted today from the source that still counts (not rejected, failed or compensated)."""
    total = (Transfer.objects.filter(source_account_id=source_account_id, created_at__gte=_day_start(now))
             .exclude(phase__in=[saga.REJECTED, saga.FAILED, saga.COMPENSATED]).aggregate(total=Sum("amount")))
    return int(total["total"] or 0)


def _requested_data(*, transaction_id: str, request: TransferRequestInput, timestamp: str) -> dict[str, Any]:
    """`TransferRequested` data, field for field as the original (flows.md §2.2)."""
    return {
        "transactionId": transaction_id, "sourceAccountId": request.source_account_id,
        "targetAccountId": request.target_account_id, "amount": request.amount_yen,
        "description": request.description, "timestamp": timestamp, "transactionType": ev.TRANSACTION_TYPE,
        "transferDetails": {"sourceAccountId": request.source_account_id,
                            "targetAccountId": request.target_account_id, "transferId": transaction_id,
                            "transferType": ev.TRANSFER_TYPE},
    }


def transfer_request(*, user: Any, body: Any, idempotency_key: str | None) -> TransferRequestAnswer:
    """Accept a transfer: TransferRequested (v1, RECEIVED) + WithdrawRequested (v2), hold on the source,
    `withdraw-{transactionId}` row, all in one transaction. Insufficient funds: TransferRejected (v1,
    REJECTED) is committed and InsufficientFundsError raised. Other refusals (400/403) write nothing.
    A repeated Idempotency-Key with the same body returns the first answer (422 with another body)."""
    request = transfer_request_validate(body=body)
    actor = _actor_for_customer(user)
    rejected_body: dict[str, Any] | None = None
    with transaction.atomic(durable=True):
        if idempotency_key is not None:
            stored: StoredAnswer | None = request_idempotency_claim(
                scope=IDEMPOTENCY_SCOPE, owner=str(user.public_id or user.pk), key=idempotency_key,
                fingerprint=request_fingerprint(body))
            if stored is not None:
                return TransferRequestAnswer(status_code=stored.status_code, body=stored.body, replayed=True)
        # Only the source's hold changes: the target is read, never locked, so transfers to one popular
        # account do not queue behind each other here; it is read before the source's lock is taken, so
        # that lock (held until commit) covers only what must be serial per source.
        target = account_find(account_id=request.target_account_id)
        source = accounts_lock(account_ids=[request.source_account_id]).get(request.source_account_id)
        if source is None and request.source_account_id == user.primary_account_id:
            raise TransferInvalidError(SOURCE_NOT_FOUND_MESSAGE, code="SOURCE_ACCOUNT_NOT_FOUND",
                                       extra={"error": "Account not found"})
        if source is None or not user.customer_id or source.customer_id != user.customer_id:
            raise TransferForbiddenError("送金元口座はご本人の口座ではありません。",
                                         extra={"sourceAccountId": request.source_account_id})
        if source.status != "ACTIVE":
            raise TransferInvalidError(SOURCE_NOT_FOUND_MESSAGE, code="SOURCE_ACCOUNT_NOT_ACTIVE",
                                       extra={"error": f"Source account is {source.status}"})
        if target is None or target.status != "ACTIVE":
            diagnostic = "Account not found" if target is None else f"Target account is {target.status}"
            raise TransferInvalidError(TARGET_NOT_FOUND_MESSAGE, code="TARGET_ACCOUNT_NOT_FOUND",
                                       extra={"error": diagnostic})
        now = timezone.now()

        transaction_id = secrets.token_hex(16)
        aggregate_id = ev.aggregate_id_for(transaction_id)
        log_context_bind(transaction_id=transaction_id)
        tracing.span_attributes_set(transaction_id=transaction_id)
        timestamp = iso_time(now)
        metadata = {"customerId": user.customer_id}
        if source.available_balance < request.amount_yen:
            data = _requested_data(transaction_id=transaction_id, request=request, timestamp=timestamp)
            if not body.get("description"):
                data["description"] = f"振込失敗: {request.source_account_id} → {request.target_account_id}"
            data["currentBalance"] = source.available_balance
            data["reason"] = ev.REASON_INSUFFICIENT_BALANCE
            data["transferDetails"]["failureReason"] = ev.REASON_INSUFFICIENT_BALANCE
            saga.phase_after(saga.NEW, [(ev.TRANSFER_REJECTED, ev.STATUS_REJECTED)])
            rejected_body = {"message": INSUFFICIENT_MESSAGE, "transactionId": transaction_id}
            if idempotency_key is not None:
                request_idempotency_store(scope=IDEMPOTENCY_SCOPE, owner=str(user.public_id or user.pk),
                                          key=idempotency_key, status_code=400, body=rejected_body)
            event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=aggregate_id, expected_version=0,
                         actor=actor, correlation_id=transaction_id, events=[NewEvent(
                             type=ev.TRANSFER_REJECTED, data=data, status=ev.STATUS_REJECTED,
                             metadata={**metadata, "transactionCategory": ev.CATEGORY_TRANSFER_FAILED}),
                         ])
        else:
            if _daily_total(source_account_id=source.account_id, now=now) + request.amount_yen > \
                    settings.TRANSFER_DAILY_LIMIT:
                raise TransferInvalidError(f"daily transfer limit of {settings.TRANSFER_DAILY_LIMIT} yen exceeded",
                                           code="DAILY_LIMIT_EXCEEDED",
                                           extra={"dailyLimit": settings.TRANSFER_DAILY_LIMIT})
            withdraw_key = ev.outbox_key(ev.KIND_WITHDRAW, transaction_id)
            withdraw_data = {
                "transactionId": transaction_id, "sourceAccountId": request.source_account_id,
                "targetAccountId": request.target_account_id, "amount": request.amount_yen,
                "timestamp": timestamp, "aggregateId": aggregate_id, "version": 2,
                "transactionType": "TRANSFER_WITHDRAWAL",
                "transferDetails": {"transferId": transaction_id, "transferType": ev.TRANSFER_TYPE,
                                    "description": f"振込出金: {request.target_account_id}宛"},
                "outboxRecordId": withdraw_key, "idempotencyKey": withdraw_key,
            }
            saga.phase_after(saga.NEW, [(ev.TRANSFER_REQUESTED, ev.STATUS_RECEIVED),
                                        (ev.WITHDRAW_REQUESTED, ev.STATUS_WITHDRAW_REQUESTED)])
            account_hold_place(account=source, amount=request.amount_yen)
            outbox_enqueue(key=withdraw_key, kind=ev.KIND_WITHDRAW, aggregate_id=aggregate_id, event_version=2,
                           event_type=ev.WITHDRAW_REQUESTED, payload={
                               "accountId": request.source_account_id,
                               "targetAccountId": request.target_account_id, "amount": request.amount_yen,
                               "transactionId": transaction_id, "aggregateId": aggregate_id, "version": 2,
                               "description": ev.core_description(ev.LEG_WITHDRAW, transaction_id)})
            accepted = {"message": ACCEPTED_MESSAGE, "transactionId": transaction_id, "timestamp": timestamp,
                        "aggregateId": aggregate_id, "version": 1}
            if idempotency_key is not None:
                request_idempotency_store(scope=IDEMPOTENCY_SCOPE, owner=str(user.public_id or user.pk),
                                          key=idempotency_key, status_code=202, body=accepted)
            event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=aggregate_id, expected_version=0,
                         actor=actor, correlation_id=transaction_id, events=[
                             NewEvent(type=ev.TRANSFER_REQUESTED, status=ev.STATUS_RECEIVED,
                                      data=_requested_data(transaction_id=transaction_id, request=request,
                                                           timestamp=timestamp),
                                      metadata={**metadata, "transactionCategory": ev.CATEGORY_TRANSFER}),
                             NewEvent(type=ev.WITHDRAW_REQUESTED, status=ev.STATUS_WITHDRAW_REQUESTED,
                                      leg=ev.LEG_WITHDRAW, data=withdraw_data, metadata=metadata),
                         ])
    if rejected_body is not None:
        metrics.transfer_terminal_observe(outcome="rejected", seconds=0.0)
        logger.info("transfer rejected (insufficient balance) id=%s", rejected_body["transactionId"])
        raise InsufficientFundsError(INSUFFICIENT_MESSAGE, extra={"transactionId": rejected_body["transactionId"]})
    logger.info("transfer accepted id=%s", accepted["transactionId"])
    return TransferRequestAnswer(status_code=202, body=accepted)


# --- saga steps (called from transfers/handlers.py inside the relay's claim/settle transactions) ----------


@dataclass(frozen=True)
class LegResult:
    """What core answered for a leg: the posting (success) or the refusal (`error` {code, message, httpStatus})."""

    success: bool
    core_transaction_id: str = ""
    new_balance: int | None = None
    timestamp: str = ""
    error: dict[str, Any] | None = None

    def processed_data(self) -> dict[str, Any]:
        """`*_PROCESSED` data (R7): `success` and either `result` or `error`."""
        if self.success:
            result: dict[str, Any] = {"coreTransactionId": self.core_transaction_id, "timestamp": self.timestamp}
            if self.new_balance is not None:
                result["newBalance"] = self.new_balance
            return {"success": True, "result": result}
        return {"success": False, "error": dict(self.error or {})}


def _transfer_lock(*, transaction_id: str) -> Transfer:
    transfer = Transfer.objects.select_for_update().filter(transaction_id=transaction_id).first()
    if transfer is None:
        raise TransferNotFoundError("Transfer not found", extra={"transactionId": transaction_id})
    return transfer


def _checked(transfer: Transfer, events: list[NewEvent]) -> list[NewEvent]:
    """`events` after checking them against the saga table (before any write of the step)."""
    saga.phase_after(transfer.phase, [(event.type, event.status) for event in events])
    return events


# The terminal events of an accepted transfer and the outcome label they are counted under (/metrics).
TERMINAL_OUTCOMES = {ev.TRANSFER_COMPLETED: "completed", ev.TRANSFER_FAILED: "failed",
                     ev.TRANSFER_COMPENSATED: "compensated"}


def _append(*, transfer: Transfer, events: list[NewEvent], actor: str) -> list:
    """Check the batch against the saga table, then append it at the transfer's next versions. Steps call
    this last: the position counter it locks is shared by every event-writing transaction. A terminal event
    is counted (with the time since acceptance) once the step commits."""
    saga.phase_after(transfer.phase, [(event.type, event.status) for event in events])
    appended = event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=transfer.aggregate_id,
                            expected_version=transfer.version, events=events, actor=actor,
                            correlation_id=transfer.transaction_id)
    for event in events:
        if event.type in TERMINAL_OUTCOMES:
            seconds = (timezone.now() - transfer.created_at).total_seconds()
            transaction.on_commit(partial(metrics.transfer_terminal_observe, outcome=TERMINAL_OUTCOMES[event.type],
                                          seconds=seconds))
    return appended


def _posting_timestamp(raw: str) -> dt.datetime:
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(raw) if raw else None
    return parsed if parsed is not None else timezone.now()


def _mail_enqueue(*, transfer: Transfer, kind: str, version: int, event_type: str, payload: dict[str, Any]) -> None:
    outbox_enqueue(key=ev.outbox_key(kind, transfer.transaction_id), kind=kind, aggregate_id=transfer.aggregate_id,
                   event_version=version, event_type=event_type,
                   payload={"transactionId": transfer.transaction_id, **payload})


def transfer_leg_start(*, transaction_id: str, leg: str, actor: str) -> bool:
    """First claim of a leg's row: PROCESSING_STARTED → `processing` (leg set). No-op when the leg already
    started (a retry or a replay). Returns True when an event was appended."""
    transfer = _transfer_lock(transaction_id=transaction_id)
    requested = {ev.LEG_WITHDRAW: saga.WITHDRAW_REQUESTED, ev.LEG_DEPOSIT: saga.DEPOSIT_REQUESTED,
                 ev.LEG_COMPENSATION: saga.COMPENSATION_REQUESTED}[leg]
    if transfer.phase != requested:
        return False
    _append(transfer=transfer, actor=actor, events=[NewEvent(type=ev.PROCESSING_STARTED, status=ev.STATUS_PROCESSING,
                                                             leg=leg, data={"leg": leg})])
    return True


def _withdraw_applied(*, transfer: Transfer, result: LegResult, actor: str) -> None:
    deposit_key = ev.outbox_key(ev.KIND_DEPOSIT, transfer.transaction_id)
    events = _checked(transfer, [
        NewEvent(type=ev.WITHDRAW_PROCESSED, status=ev.STATUS_COMPLETED, leg=ev.LEG_WITHDRAW,
                 data=result.processed_data()),
        NewEvent(type=ev.DEPOSIT_REQUESTED, status=ev.STATUS_DEPOSIT_REQUESTED, leg=ev.LEG_DEPOSIT, data={
            "transactionId": transfer.transaction_id, "accountId": transfer.target_account_id,
            "sourceAccountId": transfer.source_account_id, "amount": transfer.amount, "timestamp": iso_time(
                timezone.now()), "aggregateId": transfer.aggregate_id, "version": transfer.version + 2,
            "transactionType": "TRANSFER_DEPOSIT",
            "transferDetails": {"sourceAccountId": transfer.source_account_id, "transferId": transfer.transaction_id,
                                "transferType": ev.TRANSFER_TYPE,
                                "description": f"振込入金: {transfer.source_account_id}から"},
            "outboxRecordId": deposit_key, "idempotencyKey": deposit_key}),
    ])
    source = accounts_lock(account_ids=[transfer.source_account_id]).get(transfer.source_account_id)
    if source is not None:
        account_hold_release(account=source, amount=transfer.amount)
        posting_apply(account=source, posting=Posting(
            core_transaction_id=result.core_transaction_id, account_id=source.account_id,
            type="TRANSFER_WITHDRAWAL", amount=-transfer.amount, timestamp=_posting_timestamp(result.timestamp),
            description=ev.core_description(ev.LEG_WITHDRAW, transfer.transaction_id),
            transfer_id=transfer.transaction_id, target_account_id=transfer.target_account_id))
    outbox_enqueue(key=deposit_key, kind=ev.KIND_DEPOSIT, aggregate_id=transfer.aggregate_id,
                   event_version=transfer.version + 2, event_type=ev.DEPOSIT_REQUESTED, payload={
                       "accountId": transfer.target_account_id, "sourceAccountId": transfer.source_account_id,
                       "amount": transfer.amount, "transactionId": transfer.transaction_id,
                       "aggregateId": transfer.aggregate_id, "version": transfer.version + 2,
                       "description": ev.core_description(ev.LEG_DEPOSIT, transfer.transaction_id)})
    _append(transfer=transfer, actor=actor, events=events)


def _withdraw_refused(*, transfer: Transfer, result: LegResult, actor: str) -> None:
    error = dict(result.error or {})
    events = _checked(transfer, [
        NewEvent(type=ev.WITHDRAW_PROCESSED, status=ev.STATUS_FAILED, leg=ev.LEG_WITHDRAW,
                 data=result.processed_data()),
        NewEvent(type=ev.TRANSFER_FAILED, status=ev.STATUS_FAILED, leg=ev.LEG_WITHDRAW, data={
            "transactionId": transfer.transaction_id, "sourceAccountId": transfer.source_account_id,
            "targetAccountId": transfer.target_account_id, "amount": transfer.amount,
            "reason": error.get("code", "WITHDRAW_REFUSED"), "failedAt": iso_time(timezone.now()),
            "aggregateId": transfer.aggregate_id, "version": transfer.version + 2}),
    ])
    source = accounts_lock(account_ids=[transfer.source_account_id]).get(transfer.source_account_id)
    if source is not None:
        account_hold_release(account=source, amount=transfer.amount)
    _mail_enqueue(transfer=transfer, kind=ev.KIND_MAIL_FAILED, version=transfer.version + 2,
                  event_type=ev.TRANSFER_FAILED, payload={"outcome": "failed", "reason": error.get("code", ""),
                                                          "message": error.get("message", "")})
    _append(transfer=transfer, actor=actor, events=events)


def _deposit_applied(*, transfer: Transfer, result: LegResult, actor: str) -> None:
    events = _checked(transfer, [
        NewEvent(type=ev.DEPOSIT_PROCESSED, status=ev.STATUS_COMPLETED, leg=ev.LEG_DEPOSIT,
                 data=result.processed_data()),
        NewEvent(type=ev.TRANSFER_COMPLETED, status=ev.STATUS_COMPLETED, leg=ev.LEG_DEPOSIT, data={
            "transactionId": transfer.transaction_id, "sourceAccountId": transfer.source_account_id,
            "targetAccountId": transfer.target_account_id, "amount": transfer.amount,
            "completedAt": iso_time(timezone.now()), "aggregateId": transfer.aggregate_id,
            "version": transfer.version + 2}),
    ])
    target = accounts_lock(account_ids=[transfer.target_account_id]).get(transfer.target_account_id)
    if target is not None:
        posting_apply(account=target, posting=Posting(
            core_transaction_id=result.core_transaction_id, account_id=target.account_id, type="TRANSFER_DEPOSIT",
            amount=transfer.amount, timestamp=_posting_timestamp(result.timestamp),
            description=ev.core_description(ev.LEG_DEPOSIT, transfer.transaction_id),
            transfer_id=transfer.transaction_id, source_account_id=transfer.source_account_id))
    _mail_enqueue(transfer=transfer, kind=ev.KIND_MAIL_COMPLETED, version=transfer.version + 2,
                  event_type=ev.TRANSFER_COMPLETED, payload={"outcome": "completed"})
    _append(transfer=transfer, actor=actor, events=events)


def _deposit_refused(*, transfer: Transfer, result: LegResult, actor: str) -> None:
    refund_key = ev.outbox_key(ev.KIND_REFUND, transfer.transaction_id)
    error = dict(result.error or {})
    events = _checked(transfer, [
        NewEvent(type=ev.DEPOSIT_PROCESSED, status=ev.STATUS_FAILED, leg=ev.LEG_DEPOSIT,
                 data=result.processed_data()),
        NewEvent(type=ev.COMPENSATION_REQUESTED, status=ev.STATUS_COMPENSATION_REQUESTED, leg=ev.LEG_COMPENSATION,
                 data={"transactionId": transfer.transaction_id, "accountId": transfer.source_account_id,
                       "targetAccountId": transfer.target_account_id, "amount": transfer.amount,
                       "reason": error.get("code", "DEPOSIT_REFUSED"), "aggregateId": transfer.aggregate_id,
                       "version": transfer.version + 2, "transactionType": ev.CORE_TYPE_REFUND,
                       "outboxRecordId": refund_key, "idempotencyKey": refund_key}),
    ])
    outbox_enqueue(key=refund_key, kind=ev.KIND_REFUND, aggregate_id=transfer.aggregate_id,
                   event_version=transfer.version + 2, event_type=ev.COMPENSATION_REQUESTED, payload={
                       "accountId": transfer.source_account_id, "targetAccountId": transfer.target_account_id,
                       "amount": transfer.amount, "transactionId": transfer.transaction_id,
                       "aggregateId": transfer.aggregate_id, "version": transfer.version + 2,
                       "reason": error.get("code", ""),
                       "description": ev.core_description(ev.LEG_COMPENSATION, transfer.transaction_id)})
    _append(transfer=transfer, actor=actor, events=events)


def _refund_applied(*, transfer: Transfer, result: LegResult, actor: str) -> None:
    events = _checked(transfer, [
        NewEvent(type=ev.COMPENSATION_PROCESSED, status=ev.STATUS_COMPLETED, leg=ev.LEG_COMPENSATION,
                 data=result.processed_data()),
        NewEvent(type=ev.TRANSFER_COMPENSATED, status=ev.STATUS_COMPENSATED, leg=ev.LEG_COMPENSATION, data={
            "transactionId": transfer.transaction_id, "sourceAccountId": transfer.source_account_id,
            "targetAccountId": transfer.target_account_id, "amount": transfer.amount,
            "compensatedAt": iso_time(timezone.now()), "aggregateId": transfer.aggregate_id,
            "version": transfer.version + 2}),
    ])
    source = accounts_lock(account_ids=[transfer.source_account_id]).get(transfer.source_account_id)
    if source is not None:
        posting_apply(account=source, posting=Posting(
            core_transaction_id=result.core_transaction_id, account_id=source.account_id, type=ev.CORE_TYPE_REFUND,
            amount=transfer.amount, timestamp=_posting_timestamp(result.timestamp),
            description=ev.core_description(ev.LEG_COMPENSATION, transfer.transaction_id),
            transfer_id=transfer.transaction_id, source_account_id=transfer.target_account_id))
    _mail_enqueue(transfer=transfer, kind=ev.KIND_MAIL_FAILED, version=transfer.version + 2,
                  event_type=ev.TRANSFER_COMPENSATED, payload={"outcome": "compensated"})
    _append(transfer=transfer, actor=actor, events=events)


_STEPS = {
    (ev.LEG_WITHDRAW, True): _withdraw_applied,
    (ev.LEG_WITHDRAW, False): _withdraw_refused,
    (ev.LEG_DEPOSIT, True): _deposit_applied,
    (ev.LEG_DEPOSIT, False): _deposit_refused,
    (ev.LEG_COMPENSATION, True): _refund_applied,
}


def transfer_leg_record(*, transaction_id: str, leg: str, result: LegResult, actor: str) -> bool:
    """Record a leg's definitive result in the caller's transaction (R6 rows "withdraw applied", "withdraw
    definitively refused", "deposit applied", "deposit definitively refused", "refund applied"): events,
    read-model hold/posting, follow-up row. No-op (False) when the leg's result was already recorded."""
    with transaction.atomic():
        transfer = _transfer_lock(transaction_id=transaction_id)
        if transfer.phase not in saga.LEG_OPEN_PHASES[leg]:
            logger.info("transfer %s: %s result ignored in phase %s (duplicate)", transaction_id, leg, transfer.phase)
            return False
        step = _STEPS.get((leg, result.success))
        if step is None:
            raise saga.IllegalTransitionError(f"a {leg} leg cannot end unsuccessfully by itself")
        step(transfer=transfer, result=result, actor=actor)
    return True


# --- operator actions (R26, R27): void the leg's key first (network), then record in one transaction ------


def _leg_result_from_void(*, void: core_client.CoreResult, voided_error: dict[str, Any]) -> LegResult:
    """Interpret `POST /api/idempotency/{key}/void`: voided → refused with `voided_error`; already applied →
    the stored answer (a 2xx posting, or the stored refusal); no answer → CoreUnavailableError."""
    if void.outcome is core_client.Outcome.SUCCESS:
        return LegResult(success=False, error=voided_error)
    body = void.body or {}
    if void.outcome is core_client.Outcome.DEFINITE and void.http_status == 409 and body.get("state") == "applied":
        return leg_result_from_answer(status_code=int(body.get("statusCode") or 0), body=body.get("response") or {})
    raise CoreUnavailableError("core banking did not confirm the void; try again",
                               extra={"coreError": void.error, "coreStatus": void.http_status})


def leg_error(*, http_status: int | None, body: dict[str, Any] | None) -> dict[str, Any]:
    """`error` {code, message, httpStatus} of a refusal (no URLs or traces, api.md §8)."""
    message = str((body or {}).get("error") or (body or {}).get("message") or f"HTTP {http_status}")
    lowered = message.lower()
    if "insufficient" in lowered:
        code = "INSUFFICIENT_BALANCE"
    elif "void" in lowered:
        code = "IDEMPOTENCY_KEY_VOIDED"
    elif "not active" in lowered or "frozen" in lowered or "inactive" in lowered:
        code = "ACCOUNT_NOT_ACTIVE"
    elif http_status == 404:
        code = "ACCOUNT_NOT_FOUND"
    elif http_status == 422:
        code = "IDEMPOTENCY_KEY_REUSED"
    else:
        code = "CORE_REFUSED"
    return {"code": code, "message": message[:300], "httpStatus": http_status}


def leg_result_from_answer(*, status_code: int, body: dict[str, Any]) -> LegResult:
    """A leg result from a core answer (live or stored under the key)."""
    if 200 <= status_code < 300:
        return LegResult(success=True, core_transaction_id=str(body.get("transactionId") or ""),
                         new_balance=body.get("newBalance"), timestamp=str(body.get("timestamp") or ""))
    return LegResult(success=False, error=leg_error(http_status=status_code, body=body))


def _dead_leg_message(*, transfer: Transfer, leg: str) -> OutboxMessage | None:
    return OutboxMessage.objects.filter(key=ev.outbox_key(ev.LEG_KINDS[leg], transfer.transaction_id)).first()


def _operator_action(*, transaction_id: str, action: str, leg: str, actor: str,
                     voided_error: dict[str, Any]) -> tuple[Transfer, str]:
    transfer = Transfer.objects.filter(transaction_id=transaction_id).first()
    if transfer is None:
        raise TransferNotFoundError("Transfer not found", extra={"transactionId": transaction_id})
    phase_before = transfer.phase
    if phase_before not in saga.LEG_OPEN_PHASES[leg]:
        # Already past this leg (a second call, or the leg finished meanwhile): nothing to do.
        TransferOperatorAction.objects.create(transaction_id=transaction_id, action=action, actor=actor[:150],
                                              outcome="noop", phase_before=phase_before, phase_after=phase_before,
                                              note="leg already resolved")
        return transfer, "noop"
    message = _dead_leg_message(transfer=transfer, leg=leg)
    if message is None or message.status != OutboxStatus.FAILED:
        raise LegStillInFlightError(f"the {leg.lower()} leg is not dead-lettered; wait or replay it",
                                    extra={"outboxStatus": message.status if message else None})
    void = core_client.idempotency_void(key=message.key)  # outside any transaction
    result = _leg_result_from_void(void=void, voided_error=voided_error)
    with transaction.atomic(durable=True):
        locked = _transfer_lock(transaction_id=transaction_id)
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.phase not in saga.LEG_OPEN_PHASES[leg] or message.status != OutboxStatus.FAILED:
            raise LegStillInFlightError("the transfer changed meanwhile (replayed?); look again",
                                        extra={"phase": locked.phase, "outboxStatus": message.status})
        # A leg never claimed (phase *_REQUESTED) may end directly: the saga table allows it.
        _STEPS[(leg, result.success)](transfer=locked, result=result, actor=actor)
        outcome = "applied" if result.success else "voided"
        outbox_resolve(message_id=message.pk, actor=actor, note=f"{action} by operator: {outcome}")
        locked.refresh_from_db()
        TransferOperatorAction.objects.create(transaction_id=transaction_id, action=action, actor=actor[:150],
                                              outcome=outcome, phase_before=phase_before, phase_after=locked.phase)
    logger.warning("transfer %s %s by %s: %s (phase %s → %s)", transaction_id, action, actor, outcome, phase_before,
                   locked.phase)
    return locked, outcome


def transfer_abort(*, transaction_id: str, actor: str) -> tuple[Transfer, str]:
    """R26: the withdraw row dead-lettered. Void `withdraw-{id}`; voided → WITHDRAW_PROCESSED failed +
    TransferFailed (hold released, failure mail); already applied → the saga continues with the deposit.
    Audited; a second call is a no-op. Raises LegStillInFlightError (409), CoreUnavailableError (503)."""
    return _operator_action(transaction_id=transaction_id, action="abort", leg=ev.LEG_WITHDRAW, actor=actor,
                            voided_error={"code": "ABORTED", "message": "aborted by operator; withdrawal voided",
                                          "httpStatus": None})


def transfer_compensate(*, transaction_id: str, actor: str) -> tuple[Transfer, str]:
    """R27: the deposit row dead-lettered. Void `deposit-{id}`; voided → DEPOSIT_PROCESSED failed +
    CompensationRequested + `refund-{id}`; already applied → completed. Audited; a second call is a no-op."""
    return _operator_action(transaction_id=transaction_id, action="compensate", leg=ev.LEG_DEPOSIT, actor=actor,
                            voided_error={"code": "COMPENSATED_BY_OPERATOR",
                                          "message": "deposit voided by operator", "httpStatus": None})


def leg_for_kind(kind: str) -> str:
    return ev.KIND_LEGS[kind]


__all__ = [
    "transfer_request", "transfer_request_validate", "transfer_leg_start", "transfer_leg_record", "transfer_abort",
    "transfer_compensate", "LegResult", "leg_result_from_answer", "leg_error", "InsufficientFundsError",
    "TransferInvalidError", "TransferForbiddenError", "TransferNotFoundError", "LegStillInFlightError",
    "CoreUnavailableError",
]
