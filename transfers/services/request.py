"""Accepting a transfer: validate the request, then hold the money and queue the withdrawal in one transaction."""
from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from balance.services import account_daily_transfer_total, account_hold_place, account_lock_with_counterparty
from config.api import iso_time
from config.observability import metrics, tracing
from config.observability.logs import log_context_bind
from outbox.eventstore.services import NewEvent, event_append
from outbox.request_idempotency import (
    StoredAnswer,
    request_fingerprint,
    request_idempotency_claim,
    request_idempotency_store,
)
from outbox.services import outbox_enqueue
from transfers import events as ev
from transfers import saga
from transfers.errors import InsufficientFundsError, TransferForbiddenError, TransferInvalidError
from transfers.models import Transfer

logger = logging.getLogger("bank.transfers")

ACCEPTED_MESSAGE = "振込依頼を受け付けました"
INVALID_REQUEST_MESSAGE = "Invalid request. Required fields: sourceAccountId, targetAccountId, amount > 0"
SOURCE_NOT_FOUND_MESSAGE = "送金元口座が見つかりません。口座番号をご確認ください。"
TARGET_NOT_FOUND_MESSAGE = "送金先口座が見つかりません。口座番号をご確認ください。"
# Bank account numbers are 10 ASCII digits (`\d` would also take other scripts' digits).
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{10}")
INSUFFICIENT_MESSAGE = "口座残高が不足しております。振込金額をご確認してください。"
IDEMPOTENCY_SCOPE = "transfer"
# The accepting events are version 1 (TransferRequested) and 2 (WithdrawRequested) of a new transfer.
WITHDRAW_REQUEST_VERSION = 2


@dataclass(frozen=True)
class TransferRequestInput:
    """The request as validated for the domain (amount in yen, description defaulted)."""

    source_account_id: str
    target_account_id: str
    amount_yen: int
    description: str


def transfer_request_validate(*, body: Any) -> TransferRequestInput:
    """Shape and limits of a transfer request: a clear 400 (TransferInvalidError) for each refusal."""
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
    if not ACCOUNT_ID_PATTERN.fullmatch(target):
        # Named here, before the default description (which embeds the ids) could be the thing refused.
        raise TransferInvalidError(TARGET_NOT_FOUND_MESSAGE, code="INVALID_TARGET_ACCOUNT_ID",
                                   extra={"error": "targetAccountId must be a 10-digit account number",
                                          "field": "targetAccountId"})
    if source == target:
        raise TransferInvalidError("sourceAccountId and targetAccountId must differ", code="SAME_ACCOUNT")
    description = body.get("description")
    if description is None or description == "":
        # Our own default: only a description the client sent is held to the length limit below.
        return TransferRequestInput(source_account_id=source, target_account_id=target, amount_yen=amount,
                                    description=f"振込: {source} → {target}")
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
    """What the API answers: 202 and the original body, or a replayed first answer (same Idempotency-Key)."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def _actor_for_customer(user: Any) -> str:
    return f"user:{user.public_id or user.pk}"


def _day_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _daily_total(*, source: Any, now: dt.datetime) -> int:
    """Yen accepted today from the source that still counts (not rejected, failed or compensated): kept on the
    source's locked row, so the check reads nothing else. Only a row that does not keep it yet (an account from
    before the column existed) is counted once from today's transfers."""
    kept = account_daily_transfer_total(account=source, day=_day_start(now).date())
    if kept is not None:
        return kept
    total = (Transfer.objects.filter(source_account_id=source.account_id, created_at__gte=_day_start(now))
             .exclude(phase__in=[saga.REJECTED, saga.FAILED, saga.COMPENSATED]).aggregate(total=Sum("amount")))
    return int(total["total"] or 0)


def transfer_request(*, user: Any, body: Any, idempotency_key: str | None) -> TransferRequestAnswer:
    """Accept a transfer: TransferRequested (v1, RECEIVED) + WithdrawRequested (v2), hold on the source,
    `withdraw-{transactionId}` row, all in one transaction. Insufficient funds: TransferRejected (v1,
    REJECTED) is committed and InsufficientFundsError raised. Other refusals (400/403) write nothing.
    A repeated Idempotency-Key with the same body returns the first answer (422 with another body)."""
    request = transfer_request_validate(body=body)
    actor = _actor_for_customer(user)
    owner = str(user.public_id or user.pk)
    rejected_body: dict[str, Any] | None = None
    with transaction.atomic(durable=True):
        if idempotency_key is not None:
            stored: StoredAnswer | None = request_idempotency_claim(
                scope=IDEMPOTENCY_SCOPE, owner=owner, key=idempotency_key, fingerprint=request_fingerprint(body))
            if stored is not None:
                return TransferRequestAnswer(status_code=stored.status_code, body=stored.body, replayed=True)
        # Only the source's hold changes: the target is read, never locked, so transfers to one popular
        # account do not queue behind each other here.
        source, target = account_lock_with_counterparty(account_id=request.source_account_id,
                                                        counterparty_id=request.target_account_id)
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
        requested = ev.TransferRequestedData(
            transaction_id=transaction_id, source_account_id=request.source_account_id,
            target_account_id=request.target_account_id, amount=request.amount_yen,
            description=request.description, timestamp=timestamp)
        if source.available_balance < request.amount_yen:
            saga.phase_after(saga.NEW, [(ev.TRANSFER_REJECTED, ev.STATUS_REJECTED)])
            rejected_body = {"message": INSUFFICIENT_MESSAGE, "transactionId": transaction_id}
            if idempotency_key is not None:
                request_idempotency_store(scope=IDEMPOTENCY_SCOPE, owner=owner, key=idempotency_key,
                                          status_code=400, body=rejected_body)
            event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=aggregate_id, expected_version=0,
                         actor=actor, correlation_id=transaction_id, events=[NewEvent(
                             type=ev.TRANSFER_REJECTED, status=ev.STATUS_REJECTED,
                             data=requested.rejected_event_data(available_balance=source.available_balance,
                                                                default_description=not body.get("description")),
                             metadata={**metadata, "transactionCategory": ev.CATEGORY_TRANSFER_FAILED}),
                         ])
        else:
            day_total = _daily_total(source=source, now=now)
            if day_total + request.amount_yen > settings.TRANSFER_DAILY_LIMIT:
                raise TransferInvalidError(f"daily transfer limit of {settings.TRANSFER_DAILY_LIMIT} yen exceeded",
                                           code="DAILY_LIMIT_EXCEEDED",
                                           extra={"dailyLimit": settings.TRANSFER_DAILY_LIMIT})
            withdrawal = ev.LegRequestedData(
                leg=ev.LEG_WITHDRAW, transaction_id=transaction_id, aggregate_id=aggregate_id,
                version=WITHDRAW_REQUEST_VERSION, account_id=request.source_account_id,
                counterparty_account_id=request.target_account_id, amount=request.amount_yen, timestamp=timestamp)
            saga.phase_after(saga.NEW, [(ev.TRANSFER_REQUESTED, ev.STATUS_RECEIVED),
                                        (withdrawal.event_type, withdrawal.status)])
            account_hold_place(account=source, amount=request.amount_yen, counted_day=_day_start(now).date(),
                               day_total_before=day_total)
            outbox_enqueue(key=withdrawal.outbox_key, kind=withdrawal.kind, aggregate_id=aggregate_id,
                           event_version=withdrawal.version, event_type=withdrawal.event_type,
                           payload=withdrawal.outbox_payload())
            accepted = {"message": ACCEPTED_MESSAGE, "transactionId": transaction_id, "timestamp": timestamp,
                        "aggregateId": aggregate_id, "version": 1}
            if idempotency_key is not None:
                request_idempotency_store(scope=IDEMPOTENCY_SCOPE, owner=owner, key=idempotency_key,
                                          status_code=202, body=accepted)
            event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=aggregate_id, expected_version=0,
                         actor=actor, correlation_id=transaction_id, events=[
                             NewEvent(type=ev.TRANSFER_REQUESTED, status=ev.STATUS_RECEIVED,
                                      data=requested.event_data(),
                                      metadata={**metadata, "transactionCategory": ev.CATEGORY_TRANSFER}),
                             NewEvent(type=withdrawal.event_type, status=withdrawal.status, leg=ev.LEG_WITHDRAW,
                                      data=withdrawal.event_data(), metadata=metadata),
                         ])
    if rejected_body is not None:
        metrics.transfer_terminal_observe(outcome="rejected", seconds=0.0)
        logger.info("transfer rejected (insufficient balance) id=%s", rejected_body["transactionId"])
        raise InsufficientFundsError(INSUFFICIENT_MESSAGE, extra={"transactionId": rejected_body["transactionId"]})
    logger.info("transfer accepted id=%s", accepted["transactionId"])
    return TransferRequestAnswer(status_code=202, body=accepted)
