"""What the outbox relay does with each of a transfer's outbox rows: the three money legs and the two mails.

A leg handler's `deliver` runs with no transaction open and posts to core under the row's key (`withdraw-{id}`,
…) as Idempotency-Key; transfers/core_answers.py says what the answer means. An unknown outcome (timeout, 5xx)
is looked up by key before anything else: applied → core's stored answer; never applied or unreachable → retry
the same key later. A definite deposit refusal voids the key before the refund is requested, so the deposit can
never land after the money went back. A refund is never given up automatically: it retries until it
dead-letters (critical alert). The hooks run inside the relay's claim/settle transactions and call one service
each (transfers/services/legs.py).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from outbox.core_banking import client as core_client
from outbox.core_banking.client import CoreResult
from outbox.mail import MailContent, MailHandler
from outbox.models import OutboxMessage
from outbox.registry import Delivery
from transfers import events as ev
from transfers.core_answers import LegResult, answer_of_lookup, answer_of_posting, answer_of_void
from transfers.models import Transfer
from transfers.services import (
    transfer_deposit_record,
    transfer_leg_start,
    transfer_refund_record,
    transfer_withdrawal_record,
)

logger = logging.getLogger("bank.transfers.handlers")

LEG_MAX_ATTEMPTS = 10  # withdraw, deposit
REFUND_MAX_ATTEMPTS = 20  # a refund returns the payer's money: it gets more tries before it needs an operator

RELAY_ACTOR = "system:relay"


def _delivery_of(result: LegResult) -> Delivery:
    """The relay's view of a definitive result; the LegResult itself rides along to the record service."""
    if result.success:
        return Delivery.success(http_status=result.http_status, result=result)
    return Delivery.failed(error=result.error_message or "refused", http_status=result.http_status, result=result)


class CoreLegHandler:
    """Base of the three money legs. Subclasses set `leg`, `record` (the service that records the result),
    `max_attempts` and `call(message)`."""

    queue = "core"
    max_attempts = LEG_MAX_ATTEMPTS
    leg = ev.LEG_WITHDRAW

    @staticmethod
    def record(*, transaction_id: str, result: LegResult, actor: str) -> bool:
        raise NotImplementedError

    def call(self, message: OutboxMessage) -> CoreResult:
        raise NotImplementedError

    def deliver(self, message: OutboxMessage) -> Delivery:
        answer = self.call(message)
        result = answer_of_posting(answer)
        if result is None:
            lookup = core_client.idempotency_lookup(key=message.key)
            result = answer_of_lookup(lookup)
            if result is None:
                reason = "not applied yet" if lookup.outcome is core_client.Outcome.DEFINITE else "lookup failed"
                return Delivery.retry(error=f"{answer.error or 'ambiguous'} ({reason})",
                                      http_status=answer.http_status, ambiguous=True)
        return self.settle_answer(message, result)

    def settle_answer(self, message: OutboxMessage, result: LegResult) -> Delivery:
        return _delivery_of(result)

    # hooks (inside the relay's transactions)

    def on_claim(self, message: OutboxMessage) -> None:
        transfer_leg_start(transaction_id=message.payload["transactionId"], leg=self.leg, actor=RELAY_ACTOR)

    def on_success(self, message: OutboxMessage, delivery: Delivery) -> None:
        self.record(transaction_id=message.payload["transactionId"], result=delivery.result, actor=RELAY_ACTOR)

    def on_failure(self, message: OutboxMessage, delivery: Delivery) -> None:
        self.record(transaction_id=message.payload["transactionId"], result=delivery.result, actor=RELAY_ACTOR)

    def on_dead_letter(self, message: OutboxMessage) -> None:
        critical = self.leg != ev.LEG_WITHDRAW
        log = logger.error if critical else logger.warning
        log("ALERT transfer %s: %s leg dead-lettered%s; operator: replay, or %s", message.payload.get("transactionId"),
            self.leg, " (money in suspense)" if critical else "",
            {ev.LEG_WITHDRAW: "abort", ev.LEG_DEPOSIT: "compensate", ev.LEG_REFUND: "fix and replay"}[self.leg])


class WithdrawHandler(CoreLegHandler):
    """`withdraw-{id}`: debit the source (TRANSFER_WITHDRAWAL)."""

    leg = ev.LEG_WITHDRAW
    record = staticmethod(transfer_withdrawal_record)

    def call(self, message: OutboxMessage) -> CoreResult:
        payload = message.payload
        return core_client.withdraw(account_id=payload["accountId"], amount=payload["amount"],
                                    description=payload.get("description", ""),
                                    target_account_id=payload["targetAccountId"],
                                    transfer_id=payload["transactionId"], idempotency_key=message.key)


class DepositHandler(CoreLegHandler):
    """`deposit-{id}`: credit the target; a definite refusal voids the key before the refund is requested."""

    leg = ev.LEG_DEPOSIT
    record = staticmethod(transfer_deposit_record)

    def call(self, message: OutboxMessage) -> CoreResult:
        payload = message.payload
        return core_client.deposit(account_id=payload["accountId"], amount=payload["amount"],
                                   description=payload.get("description", ""),
                                   source_account_id=payload["sourceAccountId"], transfer_id=payload["transactionId"],
                                   idempotency_key=message.key)

    def settle_answer(self, message: OutboxMessage, result: LegResult) -> Delivery:
        if result.success:
            return _delivery_of(result)
        void = core_client.idempotency_void(key=message.key)
        after_void = answer_of_void(void, refusal=dict(result.error or {}))
        if after_void is None:
            return Delivery.retry(error=f"deposit refused but the void is unconfirmed ({void.error})",
                                  http_status=void.http_status, ambiguous=True)
        if not after_void.success:
            return _delivery_of(result)  # voided: it can never apply → refund (the refusal keeps its status)
        return _delivery_of(after_void)  # it had applied after all


class RefundHandler(CoreLegHandler):
    """`refund-{id}`: credit the source back (TRANSFER_REFUND). Refusals are retried (never dropped)."""

    leg = ev.LEG_REFUND
    max_attempts = REFUND_MAX_ATTEMPTS
    record = staticmethod(transfer_refund_record)

    def call(self, message: OutboxMessage) -> CoreResult:
        payload = message.payload
        return core_client.deposit(account_id=payload["accountId"], amount=payload["amount"],
                                   description=payload.get("description", ""),
                                   source_account_id=payload.get("targetAccountId", ""),
                                   transfer_id=payload["transactionId"], idempotency_key=message.key,
                                   transaction_type=ev.CORE_TYPE_REFUND)

    def settle_answer(self, message: OutboxMessage, result: LegResult) -> Delivery:
        if result.success:
            return _delivery_of(result)
        logger.error("ALERT transfer %s: refund refused by core (%s); retrying", message.payload.get("transactionId"),
                     result.error_message)
        return Delivery.retry(error=f"refund refused: {result.error_message}", http_status=result.http_status)


# --- mail --------------------------------------------------------------------------------------


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

