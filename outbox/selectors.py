"""Every read of the event store and the outbox: event streams, folded state (time travel), relay stats."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Now

from outbox import sql
from outbox.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class OutboxStats:
    """Relay health at `now` (database clock)."""

    now: dt.datetime
    pending: int
    due: int
    oldest_pending_age_seconds: float
    oldest_due_lag_seconds: float
    in_flight: int
    expired_leases: int
    dead: int
    needs_attention: int
    completed_last_minute: int

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["now"] = self.now.isoformat()
        return values


def outbox_stats() -> OutboxStats:
    """Pending count and age, due lag, in-flight, expired leases, dead letters and last-minute throughput.

    Each figure comes from a partial index (pending / processing / failed / processed_at): no full scan.
    """
    now = sql.db_now()
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).aggregate(
        count=Count("id"), oldest=Min("created_at"))
    due = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).aggregate(
        count=Count("id"), oldest=Min("next_attempt_at"))
    processing = OutboxMessage.objects.filter(status=OutboxStatus.PROCESSING).aggregate(
        count=Count("id"), expired=Count("id", filter=Q(locked_until__lt=now)))
    dead = OutboxMessage.objects.filter(status=OutboxStatus.FAILED).aggregate(
        count=Count("id"), attention=Count("id", filter=Q(needs_attention=True)))
    completed = OutboxMessage.objects.filter(processed_at__gte=now - dt.timedelta(minutes=1)).count()

    def age(since: dt.datetime | None) -> float:
        return max(0.0, (now - since).total_seconds()) if since is not None else 0.0

    return OutboxStats(now=now, pending=pending["count"], due=due["count"],
                       oldest_pending_age_seconds=age(pending["oldest"]), oldest_due_lag_seconds=age(due["oldest"]),
                       in_flight=processing["count"], expired_leases=processing["expired"], dead=dead["count"],
                       needs_attention=dead["attention"], completed_last_minute=completed)


def outbox_dead_letter_ids(*, limit: int = 50) -> list[int]:
    """Ids of dead-lettered rows, oldest first."""
    return list(OutboxMessage.objects.filter(status=OutboxStatus.FAILED).order_by("id")
                .values_list("id", flat=True)[:limit])


def outbox_queues_with_due_messages() -> list[str]:
    """The outbox queues that have at least one due pending row (one indexed EXISTS per queue)."""
    return [queue for queue in settings.OUTBOX_QUEUES
            if OutboxMessage.objects.filter(status=OutboxStatus.PENDING, queue=queue,
                                            next_attempt_at__lte=Now()).exists()]


def outbox_message_list(*, status: str | None = None, kind: str | None = None,
                        queue: str | None = None) -> QuerySet[OutboxMessage]:
    """Outbox rows, newest first, optionally filtered by status, kind and queue."""
    messages = OutboxMessage.objects.all()
    if status:
        messages = messages.filter(status=status)
    if kind:
        messages = messages.filter(kind=kind)
    if queue:
        messages = messages.filter(queue=queue)
    return messages.order_by("-id")


def outbox_message_get(*, message_id: int) -> OutboxMessage | None:
    """One outbox row with its attempt log prefetched, or None."""
    return OutboxMessage.objects.prefetch_related("attempts").filter(id=message_id).first()


@dataclass(frozen=True)
class QueueBacklog:
    """Open outbox rows of one queue: counts by state and the age of the oldest pending row (0 when none)."""

    queue: str
    pending: int
    in_flight: int
    dead: int
    oldest_pending_age_seconds: float


def outbox_backlog_by_queue() -> list[QueueBacklog]:
    """One QueueBacklog per configured queue (the Prometheus gauges); pending, processing and failed rows only,
    each served by its partial index."""
    now = sql.db_now()
    rows = (OutboxMessage.objects.filter(status__in=(OutboxStatus.PENDING, OutboxStatus.PROCESSING,
                                                     OutboxStatus.FAILED))
            .values("queue", "status").annotate(count=Count("id"), oldest=Min("created_at")))
    found = {(row["queue"], row["status"]): row for row in rows}

    def count(queue: str, status: str) -> int:
        return found[(queue, status)]["count"] if (queue, status) in found else 0

    backlog = []
    for queue in sorted({*settings.OUTBOX_QUEUES, *(queue for queue, _ in found)}):
        oldest = found.get((queue, OutboxStatus.PENDING), {}).get("oldest")
        backlog.append(QueueBacklog(
            queue=queue, pending=count(queue, OutboxStatus.PENDING), in_flight=count(queue, OutboxStatus.PROCESSING),
            dead=count(queue, OutboxStatus.FAILED),
            oldest_pending_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0))
    return backlog


def outbox_trace_id_for_aggregate(*, aggregate_id: str) -> str | None:
    """The trace id stored with the aggregate's first traced outbox row (its request's trace), or None."""
    from config.observability.tracing import trace_id_from_carrier

    carrier = (OutboxMessage.objects.filter(aggregate_id=aggregate_id, trace_context__isnull=False)
               .order_by("id").values_list("trace_context", flat=True).first())
    return trace_id_from_carrier(carrier)
