"""Outbox handlers of the transfer saga: each maps a core-banking answer to one service call (R14, R15, R23).

`deliver` runs with no transaction open and talks to core under the row key (`withdraw-{id}`, …) as
Idempotency-Key. Outcomes (R23): SUCCESS → success; DEFINITE → the leg's refusal path; AMBIGUOUS → look
the key up first: applied → take the stored answer, 404 → retry later with the same key, unreachable →
back off. A definitive deposit refusal voids the key before compensation (R27); a refund is never
given up automatically: it retries until it dead-letters (critical alert, R28).
The hooks run inside the relay's claim/settle transactions and call transfers.services.
"""
from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.conf import settings
from django.utils import timezone

from outbox import core_client
from outbox.core_client import CoreResult, Outcome
from outbox.mail import MailContent, MailHandler
from outbox.models import OutboxMessage
from outbox.registry import Delivery
from transfers import events as ev
from transfers.models import Transfer
from transfers.services import LegResult, leg_result_from_answer, transfer_leg_record, \
    transfer_leg_start

logger = logging.getLogger("bank.transfers.handlers")

LEG_MAX_ATTEMPTS = 10  # R15: withdraw, deposit
REFUND_MAX_ATTEMPTS = 20  # R15: refund


def _actor() -> str:
    return "system:relay"


def _result_payload(result: LegResult) -> dict[str, Any]:
    return {"success": result.success, "coreTransactionId": result.core_transaction_id,
            "newBalance": result.new_balance, "timestamp": result.timestamp, "error": result.error}


def _delivery_for(result: LegResult, *, http_status: int | None) -> Delivery:
    if result.success:
        return Delivery.success(http_status=http_status, result=_result_payload(result))
    return Delivery.failed(error=(result.error or {}).get("message", "refused"), http_status=http_status,
                           result=_result_payload(result))


def _leg_result_of(delivery: Delivery) -> LegResult:
    payload = delivery.result or {}
    return LegResult(success=bool(payload.get("success")), core_transaction_id=payload.get("coreTransactionId") or "",
                     new_balance=payload.get("newBalance"), timestamp=payload.get("timestamp") or "",
                     error=payload.get("error"))


class CoreLegHandler:
    """Base of the three money legs. Subclasses set `leg`, `max_attempts` and `call(message)`."""

    queue = "core"
    max_attempts = LEG_MAX_ATTEMPTS
    leg = ev.LEG_WITHDRAW

    def call(self, message: OutboxMessage) -> CoreResult:
        raise NotImplementedError

    def answer(self, message: OutboxMessage) -> tuple[LegResult | None, Delivery | None, int | None]:
        """Call core and resolve an ambiguous outcome by looking the key up (R23).

        Returns (definitive result, None, http status) or (None, retry delivery, None)."""
        result = self.call(message)
        if result.outcome is not Outcome.AMBIGUOUS:
            return leg_result_from_answer(status_code=result.http_status or 0, body=result.body or {}), None, \
                result.http_status
        lookup = core_client.idempotency_lookup(key=message.key)
        if lookup.outcome is Outcome.SUCCESS:
            record = lookup.body or {}
            if record.get("state") == "applied" and record.get("statusCode"):
                stored_status = int(record["statusCode"])
                return leg_result_from_answer(status_code=stored_status, body=record.get("response") or {}), None, \
                    stored_status
            if record.get("state") == "voided":
                return LegResult(success=False, error={"code": "IDEMPOTENCY_KEY_VOIDED",
                                                       "message": "the leg's key was voided", "httpStatus": 409}), \
                    None, 409
        # 404: never applied → retry with the same key; unreachable/other → back off and try again.
        reason = "not applied yet" if lookup.outcome is Outcome.DEFINITE else "lookup failed"
        return None, Delivery.retry(error=f"{result.error or 'ambiguous'} ({reason})", http_status=result.http_status,
                                    ambiguous=True), None

    def deliver(self, message: OutboxMessage) -> Delivery:
        result, retry, http_status = self.answer(message)
        if retry is not None:
            return retry
        assert result is not None
        return self.settle_answer(message, result, http_status=http_status)

    def settle_answer(self, message: OutboxMessage, result: LegResult, *, http_status: int | None) -> Delivery:
        return _delivery_for(result, http_status=http_status)

    # hooks (inside the relay's transactions)

    def on_claim(self, message: OutboxMessage) -> None:
        transfer_leg_start(transaction_id=message.payload["transactionId"], leg=self.leg, actor=_actor())

    def on_success(self, message: OutboxMessage, delivery: Delivery) -> None:
        transfer_leg_record(transaction_id=message.payload["transactionId"], leg=self.leg,
                            result=_leg_result_of(delivery), actor=_actor())

    def on_failure(self, message: OutboxMessage, delivery: Delivery) -> None:
        transfer_leg_record(transaction_id=message.payload["transactionId"], leg=self.leg,
                            result=_leg_result_of(delivery), actor=_actor())

    def on_dead_letter(self, message: OutboxMessage) -> None:
        critical = self.leg != ev.LEG_WITHDRAW
        log = logger.error if critical else logger.warning
        log("ALERT transfer %s: %s leg dead-lettered%s; operator: replay, or %s", message.payload.get("transactionId"),
            self.leg, " (money in suspense)" if critical else "",
            {ev.LEG_WITHDRAW: "abort", ev.LEG_DEPOSIT: "compensate", ev.LEG_COMPENSATION: "fix and replay"}[self.leg])


class WithdrawHandler(CoreLegHandler):
    """`withdraw-{id}`: debit the source (TRANSFER_WITHDRAWAL)."""

    leg = ev.LEG_WITHDRAW

    def call(self, message: OutboxMessage) -> CoreResult:
        payload = message.payload
        return core_client.withdraw(account_id=payload["accountId"], amount=payload["amount"],
                                    description=payload.get("description", ""),
                                    target_account_id=payload["targetAccountId"],
                                    transfer_id=payload["transactionId"], idempotency_key=message.key)


class DepositHandler(CoreLegHandler):
    """`deposit-{id}`: credit the target; a definitive refusal voids the key before compensation (R27)."""

    leg = ev.LEG_DEPOSIT

    def call(self, message: OutboxMessage) -> CoreResult:
        payload = message.payload
        return core_client.deposit(account_id=payload["accountId"], amount=payload["amount"],
                                   description=payload.get("description", ""),
                                   source_account_id=payload["sourceAccountId"], transfer_id=payload["transactionId"],
                                   idempotency_key=message.key)

    def settle_answer(self, message: OutboxMessage, result: LegResult, *, http_status: int | None) -> Delivery:
        if result.success:
            return _delivery_for(result, http_status=http_status)
        void = core_client.idempotency_void(key=message.key)
        if void.outcome is Outcome.SUCCESS:
            return _delivery_for(result, http_status=http_status)  # voided: it can never apply → compensate
        body = void.body or {}
        if void.outcome is Outcome.DEFINITE and body.get("state") == "applied":
            stored = leg_result_from_answer(status_code=int(body.get("statusCode") or 0), body=body.get("response") or {})
            return _delivery_for(stored, http_status=int(body.get("statusCode") or 0))
        return Delivery.retry(error=f"deposit refused but the void is unconfirmed ({void.error})",
                              http_status=void.http_status, ambiguous=True)


class RefundHandler(CoreLegHandler):
    """`refund-{id}`: credit the source back (TRANSFER_REFUND). Refusals are retried (never dropped)."""

    leg = ev.LEG_COMPENSATION
    max_attempts = REFUND_MAX_ATTEMPTS

    def call(self, message: OutboxMessage) -> CoreResult:
        payload = message.payload
        return core_client.deposit(account_id=payload["accountId"], amount=payload["amount"],
                                   description=payload.get("description", ""),
                                   source_account_id=payload.get("targetAccountId", ""),
                                   transfer_id=payload["transactionId"], idempotency_key=message.key,
                                   transaction_type=ev.CORE_TYPE_REFUND)

    def settle_answer(self, message: OutboxMessage, result: LegResult, *, http_status: int | None) -> Delivery:
        if result.success:
            return _delivery_for(result, http_status=http_status)
        logger.error("ALERT transfer %s: refund refused by core (%s); retrying", message.payload.get("transactionId"),
                     (result.error or {}).get("message"))
        return Delivery.retry(error=f"refund refused: {(result.error or {}).get('message', '')}",
                              http_status=http_status)


# --- mail (R35–R37) --------------------------------------------------------------------------------------


class TransferMailHandler(MailHandler):
    """Payer mail; recipient from the local auth database (never core, never sample data)."""

    def compose(self, message: OutboxMessage) -> MailContent | None:
        transfer = Transfer.objects.filter(aggregate_id=message.aggregate_id).first()
        if transfer is None or not transfer.customer_id:
            return None
        user = get_user_model().objects.filter(customer_id=transfer.customer_id).first()
        if user is None or not user.email:
            logger.warning("transfer mail %s: payer has no e-mail address; not sent", message.key)
            return None
        language = getattr(user, "language", "") or settings.LANGUAGE_CODE
        return MailContent(recipient=user.email, language=language, context={
            "transaction_id": transfer.transaction_id, "amount": f"{transfer.amount:,}",
            "source_account_id": transfer.source_account_id, "target_account_id": transfer.target_account_id,
            "outcome": message.payload.get("outcome", ""), "reason": message.payload.get("reason", ""),
            "at": timezone.localtime(transfer.updated_at).strftime("%Y/%m/%d %H:%M"),
            "name": user.get_full_name() or user.get_username(),
        })


class TransferCompletedMailHandler(TransferMailHandler):
    template = "transfers/mail/completed"


class TransferFailedMailHandler(TransferMailHandler):
    """Failure (withdrawal refused) or compensation ("funds returned") — the payload's `outcome` tells."""

    template = "transfers/mail/failed"

