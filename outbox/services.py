"""Every write of the event store and the outbox: append events, enqueue messages, replay, reclaim, rebuild.

Owning apps call `event_append` and `outbox_enqueue` inside their own `transaction.atomic(durable=True)`
block, so events, projections and outbox rows commit or roll back together (R6). The relay's own
writes (claim, settle) live in outbox/relay.py.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.functions import Now

from config.errors import ConflictError, NotFoundError
from config.inserts import insert_unless_exists
from config.observability import tracing
from outbox import registry
from outbox.eventstore.services import require_atomic
from outbox.models import AttemptOutcome, OutboxAttempt, OutboxMessage, OutboxStatus

logger = logging.getLogger("bank.outbox")





class DuplicateOutboxKeyError(ConflictError):
    """An outbox row with this key already exists (a second enqueue of the same unit of work)."""

    code = "OUTBOX_KEY_EXISTS"


class NotDeadLetteredError(ConflictError):
    """Only dead-lettered (`failed`) outbox rows can be replayed."""

    code = "OUTBOX_NOT_DEAD_LETTER"


















def outbox_enqueue(*, key: str, kind: str, aggregate_id: str, event_version: int | None = None,
                   event_type: str = "", payload: dict[str, Any] | None = None,
                   delay_seconds: float = 0) -> OutboxMessage:
    """Insert an outbox row for the relay, in the caller's transaction, and nudge the relay after commit.

    With tracing on, the row stores the current trace context, so its delivery joins the caller's trace.

    The queue and max attempts come from the handler registered for `kind`. A second row with the same
    `key` raises DuplicateOutboxKeyError (409): the key names one unit of work, so a repeat means the
    caller's transaction must roll back. Raises TransactionRequiredError outside an atomic block.
    """
    require_atomic("outbox_enqueue")
    handler = registry.handler_get(kind)
    next_attempt_at = Now() if delay_seconds <= 0 else Now() + dt.timedelta(seconds=delay_seconds)
    message = OutboxMessage(
        key=key, kind=kind, queue=handler.queue, aggregate_id=aggregate_id, event_version=event_version,
        event_type=event_type, payload=payload or {}, max_attempts=handler.max_attempts,
        next_attempt_at=next_attempt_at, trace_context=_trace_context_for(aggregate_id),
    )
    # One statement, no savepoint: a clash on the key writes nothing and leaves the caller's transaction usable.
    if not insert_unless_exists(message):
        raise DuplicateOutboxKeyError(f"Outbox key {key} already exists.", extra={"key": key})
    if delay_seconds > 0:
        message.refresh_from_db(fields=["next_attempt_at"])
    _relay_nudge_on_commit(queue=handler.queue, message_id=message.id)
    return message


def _trace_context_for(aggregate_id: str) -> dict[str, str] | None:
    """The trace a new row of `aggregate_id` joins: the aggregate's own (its first traced row's), so a transfer
    or an application stays one trace even when a later request (a staff approval, an operator's abort) adds
    work; that request's trace is kept as a link. None while tracing is off (no query)."""
    current = tracing.context_carrier()
    if current is None:
        return None
    first = (OutboxMessage.objects.filter(aggregate_id=aggregate_id, trace_context__isnull=False).order_by("id")
             .values_list("trace_context", flat=True).first())
    if not first or tracing.trace_id_from_carrier(first) == tracing.trace_id_from_carrier(current):
        return current
    return {**{key: value for key, value in first.items() if key != tracing.LINK_KEY},
            tracing.LINK_KEY: current.get("traceparent", "")}


def _relay_nudge_on_commit(*, queue: str, message_id: int | None = None) -> None:
    """After commit, wake a relay drain for `queue` (a lost wake-up only delays: the sweep covers it)."""
    from outbox import relay, tasks

    if relay.drain_picks_up_new_rows(queue):
        return  # this thread's drain claims again before it ends
    transaction.on_commit(partial(tasks.relay_nudge, queue=queue, message_id=message_id))


def outbox_replay(*, message_id: int, actor: str) -> OutboxMessage:
    """Move a dead-lettered row back to pending with a fresh attempt budget (R19).

    Writes an attempt row `replayed` naming the operator. Raises NotFoundError, or NotDeadLetteredError
    (409) when the row is not `failed`.
    """
    with transaction.atomic(durable=True):
        message = OutboxMessage.objects.select_for_update().filter(id=message_id).first()
        if message is None:
            raise NotFoundError(f"Outbox message {message_id} does not exist.")
        if message.status != OutboxStatus.FAILED:
            raise NotDeadLetteredError(f"Outbox message {message_id} is {message.status}, not failed.",
                                       extra={"currentStatus": message.status})
        OutboxAttempt.objects.create(message=message, attempt_no=message.retry_count,
                                     outcome=AttemptOutcome.REPLAYED, actor=actor[:150],
                                     error=message.error_message)
        OutboxMessage.objects.filter(id=message.id).update(
            status=OutboxStatus.PENDING, retry_count=0, next_attempt_at=Now(), needs_attention=False,
            locked_by=None, locked_until=None, updated_at=Now())
        _relay_nudge_on_commit(queue=message.queue, message_id=message.id)
    logger.warning("outbox replay message=%s key=%s kind=%s actor=%s", message.id, message.key, message.kind, actor)
    message.refresh_from_db()
    return message


def outbox_resolve(*, message_id: int, actor: str, note: str) -> bool:
    """Close a dead-lettered row that an operator resolved another way (e.g. a transfer aborted or
    compensated): `completed`, with an attempt row `resolved` naming the operator and the note.

    Runs inside the caller's transaction, the one that records the resolution (saga events), so the row
    closes if and only if the resolution commits. Returns False when the row was not dead-lettered.
    """
    require_atomic("outbox_resolve")
    message = OutboxMessage.objects.select_for_update().filter(id=message_id, status=OutboxStatus.FAILED).first()
    if message is None:
        return False
    OutboxMessage.objects.filter(id=message.id).update(status=OutboxStatus.COMPLETED, needs_attention=False,
                                                       processed_at=Now(), updated_at=Now(), error_message=note[:2000])
    OutboxAttempt.objects.create(message=message, attempt_no=message.retry_count, outcome=AttemptOutcome.RESOLVED,
                                 actor=actor[:150], error=note[:2000])
    logger.warning("outbox resolve message=%s key=%s actor=%s: %s", message.id, message.key, actor, note[:200])
    return True


@dataclass(frozen=True)
class ReclaimResult:
    requeued: list[int]
    dead_lettered: list[int]


def outbox_reclaim_expired(*, limit: int = 500) -> ReclaimResult:
    """Take back rows whose worker lost its lease (R16): pending again, or dead-lettered when the attempt
    budget is spent or the handler forbids redelivery after an unknown outcome (mail, R36).

    Writes one `lease_expired` attempt row per message; runs each dead-lettered row's on_dead_letter hook.
    """
    with transaction.atomic(durable=True):
        expired = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PROCESSING, locked_until__lt=Now())
            .order_by("locked_until", "id")[:limit]
        )
        if not expired:
            return ReclaimResult(requeued=[], dead_lettered=[])
        requeue: list[OutboxMessage] = []
        dead: list[OutboxMessage] = []
        for message in expired:
            handler = registry.handler_find(message.kind)
            redeliver = handler is None or handler.retry_after_lease_expiry
            (requeue if redeliver and message.retry_count < message.max_attempts else dead).append(message)
        OutboxAttempt.objects.bulk_create([
            OutboxAttempt(message=message, attempt_no=message.retry_count, outcome=AttemptOutcome.LEASE_EXPIRED,
                          worker=message.locked_by or "",
                          error="lease expired: delivery outcome unknown")
            for message in expired
        ])
        if requeue:
            OutboxMessage.objects.filter(id__in=[message.id for message in requeue]).update(
                status=OutboxStatus.PENDING, locked_by=None, locked_until=None, next_attempt_at=Now(),
                error_message="lease expired", updated_at=Now())
        if dead:
            OutboxMessage.objects.filter(id__in=[message.id for message in dead]).update(
                status=OutboxStatus.FAILED, locked_by=None, locked_until=None, needs_attention=True,
                error_message="lease expired: delivery unknown", updated_at=Now())
            for message in dead:
                message.status = OutboxStatus.FAILED
                message_dead_letter_alert(message=message, reason="lease expired: delivery unknown")
                handler = registry.handler_find(message.kind)
                if handler is not None and handler.on_dead_letter is not None:
                    handler.on_dead_letter(message)
        for message in requeue:
            logger.warning("outbox lease expired message=%s key=%s worker=%s: requeued", message.id, message.key,
                           message.locked_by)
        for queue in sorted({message.queue for message in requeue}):
            _relay_nudge_on_commit(queue=queue)
    return ReclaimResult(requeued=[m.id for m in requeue], dead_lettered=[m.id for m in dead])


def message_dead_letter_alert(*, message: OutboxMessage, reason: str) -> None:
    """Raise the dead-letter alert (ERROR log; the row carries needs_attention for admin)."""
    logger.error("ALERT outbox dead letter message=%s key=%s kind=%s attempts=%s reason=%s",
                 message.id, message.key, message.kind, message.retry_count, reason)


def outbox_pull_forward(*, queue: str) -> int:
    """Make every waiting pending row of `queue` due now (e.g. after core recovers, R18). Returns the count."""
    return (OutboxMessage.objects.filter(status=OutboxStatus.PENDING, queue=queue, next_attempt_at__gt=Now())
            .update(next_attempt_at=Now(), updated_at=Now()))




@dataclass(frozen=True)
class StuckReport:
    oldest_due_lag_seconds: float
    threshold_seconds: float
    lagging: bool
    dead_letter_ids: list[int]


def outbox_stuck_check(*, threshold_seconds: float) -> StuckReport:
    """Warn when the oldest due pending row waits longer than `threshold_seconds`; alert on dead letters."""
    from outbox.selectors import outbox_dead_letter_ids, outbox_stats

    stats = outbox_stats()
    lagging = stats.oldest_due_lag_seconds > threshold_seconds
    if lagging:
        logger.warning("outbox lag: oldest due pending row waits %.1fs (threshold %ss); pending=%s in_flight=%s",
                       stats.oldest_due_lag_seconds, threshold_seconds, stats.pending, stats.in_flight)
    dead_ids = outbox_dead_letter_ids(limit=50) if stats.dead else []
    if dead_ids:
        logger.error("ALERT outbox has %s dead letter(s) (%s needing attention); ids: %s", stats.dead,
                     stats.needs_attention, ", ".join(map(str, dead_ids)))
    return StuckReport(oldest_due_lag_seconds=stats.oldest_due_lag_seconds, threshold_seconds=threshold_seconds,
                       lagging=lagging, dead_letter_ids=dead_ids)


