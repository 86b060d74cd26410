"""Outbox handlers of the benchmark: `bench.noop` (does nothing) and `bench.core_deposit` (one core HTTP call)."""
from __future__ import annotations

from outbox.core_banking import client as core_client
from outbox.models import OutboxMessage
from outbox.registry import Delivery, register_handler

NOOP_KIND = "bench.noop"
CORE_DEPOSIT_KIND = "bench.core_deposit"
BENCH_QUEUE = "core"


class NoopHandler:
    """Succeeds at once: what is left is the relay's own cost (claim, settle, Celery hop)."""

    queue = BENCH_QUEUE
    max_attempts = 10

    def deliver(self, message: OutboxMessage) -> Delivery:
        return Delivery.success()


class CoreDepositHandler:
    """One ATM deposit to the core mock per message, idempotent on the message key."""

    queue = BENCH_QUEUE
    max_attempts = 10

    def deliver(self, message: OutboxMessage) -> Delivery:
        result = core_client.deposit(
            account_id=message.payload["accountId"], amount=message.payload["amount"], description="bench",
            source_account_id="", transfer_id="", idempotency_key=message.key, transaction_type="ATM_DEPOSIT")
        if result.outcome is core_client.Outcome.SUCCESS:
            return Delivery.success(http_status=result.http_status)
        if result.outcome is core_client.Outcome.DEFINITE:
            return Delivery.failed(error=result.error, http_status=result.http_status)
        return Delivery.retry(error=result.error, http_status=result.http_status, ambiguous=True)


def register_bench_handlers() -> None:
    """Register both kinds (idempotent: the registry accepts the same handler object twice)."""
    register_handler(NOOP_KIND, _NOOP)
    register_handler(CORE_DEPOSIT_KIND, _CORE_DEPOSIT)


_NOOP = NoopHandler()
_CORE_DEPOSIT = CoreDepositHandler()
