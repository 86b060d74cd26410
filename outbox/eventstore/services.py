"""Every write of the event store: append events, save snapshots, rebuild projections.

Owning apps call `event_append` inside their own `transaction.atomic(durable=True)` block together with
`outbox.services.outbox_enqueue`, so events, projection rows and outbox rows commit or roll back together.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction

from config.errors import ConcurrencyError
from outbox.eventstore import positions
from outbox.eventstore import registry as eventstore_registry
from outbox.eventstore.models import Event, Snapshot

EVENT_SCHEMA_VERSION = "1.0"


class TransactionRequiredError(RuntimeError):
    """The service must run inside the caller's `transaction.atomic()` block."""


@dataclass(frozen=True)
class NewEvent:
    """An event to append: its type (from the aggregate's closed set), payload and display fields.

    `metadata` adds keys to the stored metadata (e.g. `processHistoryEntry`); the standard keys
    (correlationId, causationId, actor, eventVersion, timestamp) are always set by `event_append`.
    """

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    leg: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _iso_utc(value: dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ`, the JavaScript toISOString() form the original clients read."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def require_atomic(service: str) -> None:
    if not connection.in_atomic_block:
        raise TransactionRequiredError(f"{service} must run inside transaction.atomic().")


def _aggregate_head(aggregate_id: str) -> tuple[int, str | None]:
    """(current version, aggregate type) of an aggregate; (0, None) when it has no events."""
    head = (Event.objects.filter(aggregate_id=aggregate_id).order_by("-version")
            .values_list("version", "aggregate_type").first())
    return head if head is not None else (0, None)


def _aggregate_check(aggregate_id: str, *, aggregate_type: str, expected_version: int) -> None:
    """ValueError when the aggregate is of another type, ConcurrencyError when it is not at expected_version."""
    current_version, stored_type = _aggregate_head(aggregate_id)
    if stored_type is not None and stored_type != aggregate_type:
        raise ValueError(f"Aggregate {aggregate_id!r} is a {stored_type!r}, not a {aggregate_type!r}.")
    if current_version != expected_version:
        raise _version_conflict(aggregate_id, expected_version=expected_version, current_version=current_version)


def event_append(*, aggregate_type: str, aggregate_id: str, expected_version: int, events: Sequence[NewEvent],
                 actor: str, correlation_id: str, causation_id: str | None = None,
                 row_in_hand: Any = None, outside_transaction: bool = False) -> list[Event]:
    """Append `events` to one aggregate at versions expected_version+1…, then apply registered projections.

    Must run inside the caller's atomic block (unless `outside_transaction`, below). Raises ConcurrencyError (409)
    when `expected_version` is stale or a concurrent writer won the (aggregate_id, version) race,
    UndeclaredEventTypeError for a type outside the aggregate's declared set, UnknownAggregateTypeError for an
    undeclared aggregate kind.
    Takes no lock shared with other aggregates: global positions come from a sequence (PostgreSQL) or from the
    counter row that SQLite's single writer owns anyway; see positions.positions_allocate.
    `row_in_hand`: the caller's copy of the aggregate's projection row, unchanged in this transaction (locked, or
    read just before an `outside_transaction` append), which projections that take it fold from instead of
    reading the row again. On PostgreSQL a projection that can say which row the events fold into
    (`Projection.row_write`) has that row written by the append's own statement.
    `outside_transaction`: the caller has nothing else to write and no transaction open; the append makes itself
    atomic. On PostgreSQL it is one statement: one event, every projection's row written by that statement (else
    TransactionRequiredError). On SQLite it opens its own atomic block. Either way the head check refuses it
    (ConcurrencyError) if the aggregate moved after the caller read `row_in_hand`.
    """
    if outside_transaction and not positions.is_postgres():
        with transaction.atomic(durable=True):
            return event_append(aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                                expected_version=expected_version, events=events, actor=actor,
                                correlation_id=correlation_id, causation_id=causation_id, row_in_hand=row_in_hand)
    if not outside_transaction:
        require_atomic("event_append")
    aggregate = eventstore_registry.aggregate_type_get(aggregate_type)
    for new_event in events:
        if new_event.type not in aggregate.event_types:
            raise eventstore_registry.UndeclaredEventTypeError(
                f"Event type {new_event.type!r} is not declared for aggregate type {aggregate_type!r}.")
    if not events:
        return []

    base_metadata = {"correlationId": correlation_id, "causationId": causation_id, "actor": actor,
                     "eventVersion": EVENT_SCHEMA_VERSION}
    projections = eventstore_registry.projections_for(aggregate_type)
    if positions.is_postgres():
        rows, written_by_append = _append_postgres(
            aggregate_type=aggregate_type, aggregate_id=aggregate_id, expected_version=expected_version,
            events=events, base_metadata=base_metadata, projections=projections, row_in_hand=row_in_hand,
            outside_transaction=outside_transaction)
    else:
        rows, written_by_append = _append_sqlite(
            aggregate_type=aggregate_type, aggregate_id=aggregate_id, expected_version=expected_version,
            events=events, base_metadata=base_metadata), None

    for projection in projections:
        if projection is not written_by_append:
            projection.apply_appended(rows, row_in_hand=row_in_hand)
    every = aggregate.snapshot_every
    if every and rows[-1].version // every > expected_version // every:
        snapshot_save(aggregate_id=aggregate_id)
    return rows


def _append_postgres(*, aggregate_type: str, aggregate_id: str, expected_version: int, events: Sequence[NewEvent],
                     base_metadata: dict[str, Any], projections: Sequence[eventstore_registry.Projection],
                     row_in_hand: Any, outside_transaction: bool
                     ) -> tuple[list[Event], eventstore_registry.Projection | None]:
    """One statement, no savepoint (positions.events_insert_at_head). When it inserts fewer rows than asked, the
    head was elsewhere or a concurrent writer won: the transaction is marked for rollback, so even a caller that
    catches the ConcurrencyError cannot commit a partial append. The first projection that can name its row has
    it written by the same statement; returns the rows and that projection (or None)."""
    rows = [Event(event_id=uuid.uuid4(), aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                  version=expected_version + 1 + index, type=new_event.type, status=new_event.status,
                  leg=new_event.leg, data=new_event.data, metadata={**new_event.metadata, **base_metadata},
                  position=None, recorded_at=None)  # the statement fills both in
            for index, new_event in enumerate(events)]
    written_by_append, row_write = None, None
    for projection in projections:
        row_write = projection.row_write(rows, row_in_hand=row_in_hand) if projection.row_write else None
        if row_write is not None:
            written_by_append = projection
            break
    if outside_transaction and (len(rows) != 1 or any(projection is not written_by_append
                                                      for projection in projections)):
        raise _not_one_statement()
    inserted = positions.events_insert_at_head(
        aggregate_type=aggregate_type, aggregate_id=aggregate_id, expected_version=expected_version,
        rows=[{"event_ids": row.event_id, "types": row.type, "statuses": row.status, "legs": row.leg,
               "data": json.dumps(row.data), "metadata": json.dumps(row.metadata)} for row in rows],
        row_write=row_write)
    if len(inserted) != len(rows):
        if inserted:
            transaction.set_rollback(True)
        _aggregate_check(aggregate_id, aggregate_type=aggregate_type, expected_version=expected_version)
        # The head matched when read, so a concurrent writer took some of the versions.
        if connection.in_atomic_block:
            transaction.set_rollback(True)
        raise _version_conflict(aggregate_id, expected_version=expected_version,
                                current_version=expected_version + len(events))
    for row, stored in zip(rows, inserted, strict=True):
        row.id, row.position, row.recorded_at = stored.id, stored.position, stored.recorded_at
        row.metadata["timestamp"] = stored.timestamp
        row._state.adding, row._state.db = False, connection.alias
    if row_write is not None and row_write.instance is not None:
        written = {**row_write.values, **dict.fromkeys(row_write.clock_fields, rows[-1].recorded_at),
                   row_write.position_field: rows[-1].position}
        for name, value in written.items():
            setattr(row_write.instance, name, value)
    return rows, written_by_append


def _append_sqlite(*, aggregate_type: str, aggregate_id: str, expected_version: int, events: Sequence[NewEvent],
                   base_metadata: dict[str, Any]) -> list[Event]:
    """SQLite: check the head, take positions from the counter row and insert, inside a savepoint (a lost race
    leaves the caller's transaction usable and returns the positions). A new aggregate (expected_version 0) skips
    the head read: the unique (aggregate_id, version) index refuses version 1 of an existing aggregate."""
    if expected_version != 0:
        _aggregate_check(aggregate_id, aggregate_type=aggregate_type, expected_version=expected_version)
    try:
        with transaction.atomic():
            numbers, recorded_at = positions.positions_allocate(len(events))
            metadata = {**base_metadata, "timestamp": _iso_utc(recorded_at)}
            rows = [
                Event(position=numbers[index], aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                      version=expected_version + 1 + index, type=new_event.type, status=new_event.status,
                      leg=new_event.leg, data=new_event.data, metadata={**new_event.metadata, **metadata},
                      recorded_at=recorded_at)
                for index, new_event in enumerate(events)
            ]
            Event.objects.bulk_create(rows)
    except IntegrityError:
        _aggregate_check(aggregate_id, aggregate_type=aggregate_type, expected_version=expected_version)
        raise  # not a version race: a real integrity problem
    return rows


def _not_one_statement() -> TransactionRequiredError:
    return TransactionRequiredError("event_append outside a transaction must be one statement: PostgreSQL, one "
                                    "event, and every projection's row written by that statement.")


def _version_conflict(aggregate_id: str, *, expected_version: int, current_version: int) -> ConcurrencyError:
    return ConcurrencyError(
        f"Aggregate {aggregate_id} is at version {current_version}, not {expected_version}.",
        extra={"aggregateId": aggregate_id, "expectedVersion": expected_version, "currentVersion": current_version},
    )


def snapshot_save(*, aggregate_id: str) -> Snapshot | None:
    """Store the current folded state of an aggregate as a snapshot (no-op if it has no events or one exists)."""
    from outbox.eventstore.selectors import aggregate_load

    loaded = aggregate_load(aggregate_id=aggregate_id)
    if loaded is None:
        return None
    snapshot, _ = Snapshot.objects.get_or_create(
        aggregate_id=aggregate_id, version=loaded.version,
        defaults={"aggregate_type": loaded.aggregate_type, "state": loaded.state},
    )
    return snapshot


def projections_rebuild(*, names: Iterable[str] | None = None, chunk_size: int = 2000) -> dict[str, int]:
    """Reset the named (default: all) projections and replay every event in position order through them.

    Blocks event appends for the whole rebuild (positions.events_lock_against_appends), so the result equals the
    incremental state. Returns events applied per projection.
    """
    selected = eventstore_registry.projection_list()
    if names is not None:
        wanted = set(names)
        unknown = wanted - {projection.name for projection in selected}
        if unknown:
            raise LookupError(f"Unknown projection(s): {', '.join(sorted(unknown))}")
        selected = [projection for projection in selected if projection.name in wanted]
    counts = {projection.name: 0 for projection in selected}
    with transaction.atomic(durable=True):
        positions.events_lock_against_appends()
        for projection in selected:
            projection.reset()
        for event in Event.objects.order_by("position").iterator(chunk_size=chunk_size):
            for projection in selected:
                if projection.follows(event.aggregate_type):
                    projection.apply(event)
                    counts[projection.name] += 1
    return counts
