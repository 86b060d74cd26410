"""The outbox relay: claim → deliver → settle (flows.md R13–R17).

1. Claim, in one short transaction: due `pending` rows of one queue, oldest first, `FOR UPDATE SKIP LOCKED`,
   excluding any row with an earlier open (`pending`/`processing`) row of the same aggregate in the same
   queue (per-aggregate order; mail rows live on the `notify` queue and never block money legs on `core`).
   Rows become `processing`, `locked_by` = this batch's worker token, `locked_until` = db now + lease,
   `retry_count` + 1. Nothing else happens in it, so it holds no lock that other writers share.
2. Start each message just before its delivery: the handler's `on_claim` hook (e.g. PROCESSING_STARTED)
   runs on its own, outside the claim and with no transaction open (the hook's service makes its own writes
   atomic), so a batch of 50 never holds its aggregates' rows across 50 appends. A crash between claim and
   start leaves the row `processing`; the lease reclaim hands it out again and the hook runs then (hooks are
   idempotent: a leg that already started appends nothing).
   Deliver each message with no transaction open (network I/O).
3. Settle each message in its own short transaction, fenced: the row is updated only while it is still
   `processing` and locked by this token, otherwise the result is discarded (another worker took over
   after our lease expired; idempotency keys make that safe). The attempt row is written with it.

Outcomes: SUCCESS → on_success, `completed`. FAILED (definitive) → on_failure, `completed` (the failure
was handled), or `failed` (dead letter, alert) when the handler says only an operator can resolve it.
RETRY → `pending` with full-jitter backoff from the database clock, or `failed` (dead letter, alert,
on_dead_letter) once `retry_count` reaches `max_attempts`. DEFER → `pending` without consuming an
attempt. An exception in `deliver` counts as RETRY with the exception class name as the error.

SQLite (embedded default): `FOR UPDATE SKIP LOCKED` does not exist; IMMEDIATE transactions serialise the
claim instead, so two relays never claim the same row, but they queue on the database write lock. Run one
relay worker process there (the Procfile does). Every concurrency test runs on PostgreSQL.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from config.observability import metrics, tracing
from config.observability.logs import correlation_fields_for_aggregate, log_context
from outbox import registry, sql
from outbox.core_banking.breaker import CircuitBreaker, core_breaker
from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from outbox.registry import Delivery, DeliveryOutcome, RegisteredHandler
from outbox.services import message_dead_letter_alert

logger = logging.getLogger("bank.outbox.relay")

# Stop starting new deliveries once this share of the lease has passed; the rest of the batch is
# handed back (without consuming an attempt) so no row is delivered after its lease expired.
LEASE_BUDGET_FRACTION = 0.8
ERROR_MAX_LENGTH = 2000

def worker_id_new() -> str:
    """A fencing token for one claimed batch: hostname:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


# The jitter source (tests replace it to pin the schedule).
jitter_random = random.Random()


def backoff_delay_seconds(*, attempt: int, base_seconds: float, cap_seconds: float) -> float:
    """Full-jitter exponential backoff: random(0, min(cap, base × 2^(attempt−1))) seconds."""
    return jitter_random.uniform(0.0, min(cap_seconds, base_seconds * 2 ** min(max(attempt - 1, 0), 62)))


@dataclass
class DrainResult:
    """What one drain call did."""

    queue: str
    batch_size: int
    batches: int = 0
    claimed: int = 0
    last_batch_claimed: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0
    dead_lettered: int = 0
    discarded: int = 0
    released: int = 0

    @property
    def batch_full(self) -> bool:
        """True when the last batch was full, i.e. more due rows are probably waiting."""
        return self.last_batch_claimed >= self.batch_size


def claim(*, queue: str, worker_id: str, batch_size: int, lease_seconds: float) -> list[OutboxMessage]:
    """Claim a batch of due rows of `queue` in one short transaction (no hooks run in it). On PostgreSQL the claim
    is one statement, atomic on its own: no BEGIN/COMMIT round trips around it."""
    with nullcontext() if sql.is_postgres() else transaction.atomic(durable=True):
        return sql.messages_claim(queue=queue, worker_id=worker_id, batch_size=batch_size,
                                  lease_seconds=lease_seconds)


def start(*, message: OutboxMessage, handler: RegisteredHandler | None) -> str | None:
    """Run the handler's `on_claim` hook right before delivery, with no transaction open: the hook is one service,
    which makes its own writes atomic. Returns None, or the error to record as a retryable attempt when the hook
    raised (nothing of it was written)."""
    if handler is None or handler.on_claim is None:
        return None
    try:
        handler.on_claim(message)
    except Exception as exc:  # noqa: BLE001 - recorded as the attempt's error
        logger.warning("outbox on_claim failed message=%s key=%s: %s", message.id, message.key, type(exc).__name__)
        return f"on_claim failed: {type(exc).__name__}"
    return None


def deliver(*, message: OutboxMessage, handler: RegisteredHandler | None) -> Delivery:
    """Run the handler's deliver() outside any transaction; exceptions become RETRY (class name only)."""
    if handler is None:
        return Delivery.retry(error="UnknownMessageKindError")
    try:
        delivery = handler.deliver(message)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is an ambiguous outcome
        logger.warning("outbox deliver raised message=%s key=%s: %s", message.id, message.key, type(exc).__name__)
        return Delivery.retry(error=type(exc).__name__, ambiguous=True)
    if not isinstance(delivery, Delivery):
        return Delivery.retry(error="InvalidDeliveryResult")
    return delivery


def settle(*, message: OutboxMessage, delivery: Delivery, handler: RegisteredHandler | None, worker_id: str,
           run_hooks: bool = True) -> str:
    """Record one delivery result in its own short, fenced transaction. Returns the settle outcome:
    'succeeded', 'failed', 'retried', 'deferred', 'dead_lettered' or 'discarded' (lease lost)."""
    progress = {**message.progress, **delivery.progress} if delivery.progress else None
    error: str | None = delivery.error[:ERROR_MAX_LENGTH]
    retry_delay: float | None = None
    retry_count_delta = 0
    needs_attention = False
    attempt_outcome: str | None
    hook: Callable[[], None] | None = None

    if delivery.outcome is DeliveryOutcome.SUCCESS:
        status, attempt_outcome, result = OutboxStatus.COMPLETED, AttemptOutcome.SUCCESS, "succeeded"
        error = "" if message.error_message else None  # clear a previous attempt's error, else leave it
        if handler is not None and handler.on_success is not None:
            hook = lambda: handler.on_success(message, delivery)  # noqa: E731
    elif delivery.outcome is DeliveryOutcome.FAILED:
        status, attempt_outcome, result = OutboxStatus.COMPLETED, AttemptOutcome.DEFINITIVE, "failed"
        if delivery.dead_letter:
            status, needs_attention, result = OutboxStatus.FAILED, True, "dead_lettered"
        if handler is not None and handler.on_failure is not None:
            hook = lambda: handler.on_failure(message, delivery)  # noqa: E731
    elif delivery.outcome is DeliveryOutcome.DEFER:
        status, attempt_outcome, result = OutboxStatus.PENDING, None, "deferred"
        retry_delay, retry_count_delta = max(delivery.defer_seconds, 0.0), -1
    else:
        attempt_outcome = AttemptOutcome.AMBIGUOUS if delivery.ambiguous else AttemptOutcome.RETRYABLE
        if message.retry_count >= message.max_attempts:
            status, needs_attention, result = OutboxStatus.FAILED, True, "dead_lettered"
            if handler is not None and handler.on_dead_letter is not None:
                hook = lambda: handler.on_dead_letter(message)  # noqa: E731
        else:
            status, result = OutboxStatus.PENDING, "retried"
            retry_delay = backoff_delay_seconds(attempt=message.retry_count,
                                                base_seconds=settings.OUTBOX_BACKOFF_BASE_SECONDS,
                                                cap_seconds=settings.OUTBOX_BACKOFF_CAP_SECONDS)

    attempt = None
    if attempt_outcome is not None:
        attempt = sql.AttemptRecord(outcome=attempt_outcome, started_at=message.updated_at,
                                    http_status=delivery.http_status, error=delivery.error[:ERROR_MAX_LENGTH],
                                    worker=worker_id)
    if progress is not None:
        message.progress = progress

    def write() -> bool:
        return sql.message_settle(message_id=message.id, worker_id=worker_id, status=status, error_message=error,
                                  progress=progress, retry_delay_seconds=retry_delay,
                                  retry_count_delta=retry_count_delta, needs_attention=needs_attention,
                                  attempt=attempt, attempt_no=message.retry_count)

    if not run_hooks:
        hook = None
    if hook is None and sql.is_postgres():
        applied = write()  # one statement, atomic on its own: no BEGIN/COMMIT round trips
    else:
        try:
            with transaction.atomic(durable=True):
                applied = write()
                if applied and hook is not None:
                    message.status = status
                    hook()
        except Exception as exc:
            if hook is None:
                raise
            # The hook's transaction rolled back (row still ours, still processing): record the attempt as
            # retryable in a fresh transaction; the redelivery is idempotent.
            logger.warning("outbox hook failed message=%s key=%s outcome=%s: %s", message.id, message.key,
                           delivery.outcome.value, type(exc).__name__)
            message.status = OutboxStatus.PROCESSING
            return settle(message=message, handler=handler, worker_id=worker_id,
                          run_hooks=delivery.outcome is not DeliveryOutcome.RETRY,
                          delivery=Delivery.retry(error=f"{delivery.outcome.value} hook failed: {type(exc).__name__}",
                                                  http_status=delivery.http_status, progress=delivery.progress))

    if not applied:
        logger.warning("outbox result discarded (lease lost) message=%s key=%s worker=%s", message.id, message.key,
                       worker_id)
        return "discarded"
    message.status = status
    if result == "dead_lettered":
        message_dead_letter_alert(message=message, reason=delivery.error or "max attempts reached")
    elif result == "retried":
        logger.info("outbox retry message=%s key=%s attempt=%s/%s in %.2fs: %s", message.id, message.key,
                    message.retry_count, message.max_attempts, retry_delay, error)
    return result


def _deliver_one(*, message: OutboxMessage, breaker: CircuitBreaker | None, token: str) -> str:
    """Start, deliver and settle one claimed row inside its trace (continued from the row's stored context) and
    log context; count the result. Returns the settle outcome."""
    started = time.perf_counter()
    with log_context(outbox_key=message.key, outbox_kind=message.kind,
                     **correlation_fields_for_aggregate(message.aggregate_id)), \
            tracing.span_from_carrier(f"outbox deliver {message.kind}", carrier=message.trace_context,
                                      attributes={"bank.outbox.key": message.key, "bank.outbox.kind": message.kind,
                                                  "bank.outbox.queue": message.queue,
                                                  "bank.outbox.attempt": message.retry_count}):
        handler = registry.handler_find(message.kind)
        wait = breaker.wait_seconds() if breaker is not None else 0.0
        if wait > 0:
            # Circuit open (R18): not attempted, back to pending without consuming an attempt.
            delivery = Delivery.defer(seconds=wait, error="core circuit open")
        elif (hook_error := start(message=message, handler=handler)) is not None:
            delivery = Delivery.retry(error=hook_error)
        else:
            delivery = deliver(message=message, handler=handler)
            if breaker is not None:
                breaker.record(delivery)
        with tracing.span("outbox settle", outcome=delivery.outcome.value):
            outcome = settle(message=message, delivery=delivery, handler=handler, worker_id=token)
        seconds = time.perf_counter() - started
        metrics.outbox_delivery_observe(kind=message.kind, settle_result=outcome, ambiguous=delivery.ambiguous,
                                        seconds=seconds)
        if outcome != "deferred":
            logger.info("outbox delivery %s attempt=%s/%s in %.1f ms", outcome, message.retry_count,
                        message.max_attempts, seconds * 1000)
    return outcome


# The queue this thread is draining until idle, if any: a row enqueued for that queue while the drain runs (a
# transfer's next leg, written by the previous leg's settle) needs no wake-up, because the loop claims again.
_draining_until_idle: ContextVar[str | None] = ContextVar("outbox_draining_until_idle", default=None)


def drain_picks_up_new_rows(queue: str) -> bool:
    """True while this thread runs a drain of `queue` that will claim again before it ends."""
    return _draining_until_idle.get() == queue


def drain(*, queue: str, worker_id: str | None = None, batch_size: int | None = None,
          lease_seconds: float | None = None, max_batches: int | None = 1, until_idle: bool = False) -> DrainResult:
    """Claim, deliver and settle up to `max_batches` batches of `queue` (None: until nothing is claimed).

    By default a batch smaller than `batch_size` ends the drain. `until_idle`: keep claiming until a claim comes
    back empty (or `max_batches`), so rows that this drain's own settles enqueue on the same queue are picked up
    at once, without a wake-up task of their own.
    Must be called outside any transaction. `worker_id` fixes the fencing token (tests); by default
    every batch gets a fresh one.
    """
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    lease_seconds = lease_seconds or settings.OUTBOX_LEASE_SECONDS
    result = DrainResult(queue=queue, batch_size=batch_size)
    breaker = core_breaker() if queue == settings.OUTBOX_CORE_QUEUE else None  # core deliveries only
    marker = _draining_until_idle.set(queue) if until_idle else None
    try:
        _drain_batches(queue=queue, worker_id=worker_id, batch_size=batch_size, lease_seconds=lease_seconds,
                       max_batches=max_batches, until_idle=until_idle, breaker=breaker, result=result)
    finally:
        if marker is not None:
            _draining_until_idle.reset(marker)
    return result


def _drain_batches(*, queue: str, worker_id: str | None, batch_size: int, lease_seconds: float,
                   max_batches: int | None, until_idle: bool, breaker: CircuitBreaker | None,
                   result: DrainResult) -> None:
    while max_batches is None or result.batches < max_batches:
        token = worker_id or worker_id_new()
        claimed_at = time.monotonic()
        messages = claim(queue=queue, worker_id=token, batch_size=batch_size, lease_seconds=lease_seconds)
        result.batches += 1
        result.claimed += len(messages)
        result.last_batch_claimed = len(messages)
        if not messages:
            break
        deadline = claimed_at + lease_seconds * LEASE_BUDGET_FRACTION
        for index, message in enumerate(messages):
            if time.monotonic() > deadline:
                rest = [later.id for later in messages[index:]]
                result.released += sql.messages_release(message_ids=rest, worker_id=token)
                logger.warning("outbox lease budget spent: released %s message(s) of queue %s", len(rest), queue)
                break
            outcome = _deliver_one(message=message, breaker=breaker, token=token)
            setattr(result, outcome, getattr(result, outcome) + 1)
        if len(messages) < batch_size and max_batches is not None and not until_idle:
            break
