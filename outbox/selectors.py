"""Every read of the event store and the outbox: event streams, folded state (time travel), relay stats."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Now

from outbox import registry, sql
from outbox.models import Event, OutboxMessage, OutboxStatus, Snapshot


def _event_filter(*, aggregate_id: str, as_of: dt.datetime | None, version: int | None) -> QuerySet[Event]:
    events = Event.objects.filter(aggregate_id=aggregate_id)
    if as_of is not None:
        events = events.filter(recorded_at__lte=as_of)
    if version is not None:
        events = events.filter(version__lte=version)
    return events


def events_for_aggregate(*, aggregate_id: str, as_of: dt.datetime | None = None,
                         version: int | None = None) -> list[Event]:
    """Events of one aggregate in version order, optionally only those recorded at or before `as_of`
    and/or up to `version`."""
    return list(_event_filter(aggregate_id=aggregate_id, as_of=as_of, version=version).order_by("version"))


EVENT_LOG_START = sql.EventCursor()


@dataclass(frozen=True)
class EventPage:
    """One page of the event log and the cursor to pass for the next page (unchanged when the page is empty)."""

    events: list[Event]
    cursor: sql.EventCursor


def events_after(*, cursor: sql.EventCursor = EVENT_LOG_START, limit: int = 500) -> EventPage:
    """Committed events after `cursor`, in commit order: how a reader follows the whole log without skipping an
    event that commits after a later-numbered one (see sql.events_after for the snapshot barrier)."""
    keys = sql.events_after(cursor, limit)
    if not keys:
        return EventPage(events=[], cursor=cursor)
    by_id = Event.objects.in_bulk([event_id for _, event_id in keys])
    events = [by_id[event_id] for _, event_id in keys]
    return EventPage(events=events, cursor=sql.EventCursor(transaction_id=keys[-1][0], position=events[-1].position))


@dataclass(frozen=True)
class LoadedAggregate:
    """The folded state of one aggregate at `version`."""

    aggregate_type: str
    aggregate_id: str
    version: int
    state: Any
    from_snapshot_version: int


def aggregate_load(*, aggregate_id: str, as_of: dt.datetime | None = None, version: int | None = None,
                   use_snapshot: bool = True) -> LoadedAggregate | None:
    """Fold an aggregate's events into its state (R9), as of a time and/or version ("time travel", R10).

    Starts from the newest snapshot at or below the target version when `use_snapshot`; the result is
    identical either way. Returns None when the aggregate had no events by then.
    """
    head = (_event_filter(aggregate_id=aggregate_id, as_of=as_of, version=version)
            .order_by("-version").values_list("version", "aggregate_type").first())
    if head is None:
        return None
    target_version, aggregate_type = head
    aggregate = registry.aggregate_type_get(aggregate_type)
    snapshot = None
    if use_snapshot:
        snapshot = (Snapshot.objects.filter(aggregate_id=aggregate_id, version__lte=target_version)
                    .order_by("-version").only("version", "state").first())
    state = snapshot.state if snapshot is not None else aggregate.initial_state()
    start_version = snapshot.version if snapshot is not None else 0
    for event in Event.objects.filter(aggregate_id=aggregate_id, version__gt=start_version,
                                      version__lte=target_version).order_by("version"):
        state = aggregate.fold(state, event)
    return LoadedAggregate(aggregate_type=aggregate_type, aggregate_id=aggregate_id, version=target_version,
                           state=state, from_snapshot_version=start_version)


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
