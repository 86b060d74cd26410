"""Every read of the event store: one aggregate's events, the folded state at a version or an instant (time travel),
and the whole log in commit order for followers."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from outbox.eventstore import positions
from outbox.eventstore import registry as eventstore_registry
from outbox.eventstore.models import Event, Snapshot


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


EVENT_LOG_START = positions.EventCursor()


@dataclass(frozen=True)
class EventPage:
    """One page of the event log and the cursor to pass for the next page (unchanged when the page is empty)."""

    events: list[Event]
    cursor: positions.EventCursor


def events_after(*, cursor: positions.EventCursor = EVENT_LOG_START, limit: int = 500) -> EventPage:
    """Committed events after `cursor`, in commit order: how a reader follows the whole log without skipping an
    event that commits after a later-numbered one (see positions.events_after for the snapshot barrier)."""
    keys = positions.events_after(cursor, limit)
    if not keys:
        return EventPage(events=[], cursor=cursor)
    by_id = Event.objects.in_bulk([event_id for _, event_id in keys])
    events = [by_id[event_id] for _, event_id in keys]
    return EventPage(events=events, cursor=positions.EventCursor(transaction_id=keys[-1][0],
                     position=events[-1].position))


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
    aggregate = eventstore_registry.aggregate_type_get(aggregate_type)
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
