"""Celery tasks of the relay: thin wrappers around outbox/relay.py and outbox/services.py.

Celery messages are only wake-ups (R13): the outbox table is the source of truth, the beat sweep
drains due rows every second even if every wake-up is lost.
"""
from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from outbox import invariants as checks
from outbox import relay, selectors, services
from outbox import request_idempotency as idempotency

logger = logging.getLogger("bank.outbox.tasks")

# Database hiccups: retry a drain a few times with backoff; the sweep covers anything beyond. The beat
# tasks are not retried at all: beat sends the next one within a second (sweep) or a minute (detector).
_DB_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "max_retries": 3, "retry_backoff": 1,
             "retry_backoff_max": 10, "retry_jitter": True}


def relay_nudge(*, queue: str, message_id: int | None = None) -> None:
    """Publish a drain wake-up for `queue` (called after commit). Never raises: a lost wake-up only delays."""
    try:
        relay_drain.apply_async(args=(queue,), kwargs={"message_id": message_id}, queue=queue,
                                expires=settings.OUTBOX_NUDGE_EXPIRES_SECONDS, retry=False)
    except Exception as exc:  # noqa: BLE001 - the sweep delivers the message anyway
        logger.warning("outbox nudge lost queue=%s message=%s: %s", queue, message_id, type(exc).__name__)


@shared_task(name="outbox.relay_drain", acks_late=True, ignore_result=True, **_DB_RETRY)
def relay_drain(queue: str, message_id: int | None = None) -> int:
    """Drain `queue` until a claim comes back empty, for at most OUTBOX_DRAIN_MAX_BATCHES batches, so one task
    pays Celery's per-task cost for many rows and picks up the rows its own settles enqueue (a transfer's next
    leg). Stopped at the limit with rows left: enqueue another drain, so workers share a backlog."""
    result = relay.drain(queue=queue, max_batches=settings.OUTBOX_DRAIN_MAX_BATCHES, until_idle=True)
    if result.batches >= settings.OUTBOX_DRAIN_MAX_BATCHES and result.last_batch_claimed:
        relay_nudge(queue=queue)
    return result.claimed


@shared_task(name="outbox.relay_sweep", acks_late=True, ignore_result=True)
def relay_sweep() -> list[str]:
    """Beat, every second: reclaim expired leases, then wake a drain for each queue with due rows."""
    services.outbox_reclaim_expired()
    queues = selectors.outbox_queues_with_due_messages()
    for queue in queues:
        relay_nudge(queue=queue)
    return queues


@shared_task(name="outbox.stuck_detector", acks_late=True, ignore_result=True)
def stuck_detector() -> bool:
    """Beat, every minute: warn when the oldest due row lags past the threshold; alert on dead letters."""
    report = services.outbox_stuck_check(threshold_seconds=settings.OUTBOX_STUCK_THRESHOLD_SECONDS)
    for item in checks.stuck_items_list():
        log = logger.error if item.severity == "critical" else logger.warning
        log("stuck %s %s: %s", item.check, item.aggregate_id, item.reason)
    return report.lagging


@shared_task(name="outbox.idempotency_purge", ignore_result=True)
def idempotency_purge() -> int:
    """Beat, hourly: forget client Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL_SECONDS."""
    deleted = idempotency.request_idempotency_purge()
    if deleted:
        logger.info("idempotency keys purged: %d", deleted)
    return deleted
