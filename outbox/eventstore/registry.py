"""What the owning apps declare to the event store: aggregate kinds and projections.

Apps register in `AppConfig.ready()`; the event store looks them up here and never switches on a kind it does not
know.

    register_aggregate("transfer", event_types=frozenset({...}), fold=transfer_fold, initial_state=dict)
    register_projection("transfers.transfer_row", apply=project_transfer, reset=reset_transfers,
                        aggregate_types={"transfer"})
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from outbox.eventstore.models import Event

State = Any
FoldFunction = Callable[[State, "Event"], State]


class UnknownAggregateTypeError(LookupError):
    """No app declared this aggregate type."""


class UndeclaredEventTypeError(ValueError):
    """The event type is not in the closed set its aggregate kind declared."""


@dataclass(frozen=True)
class AggregateType:
    """An aggregate kind: its closed set of event types and how its state is folded from events.

    `fold(state, event) -> state` must be pure and deterministic, and the state JSON-native
    (dict/list/str/int/bool/None) so a snapshot round-trips to an equal value.
    """

    name: str
    event_types: frozenset[str]
    fold: FoldFunction
    initial_state: Callable[[], State]
    snapshot_every: int | None = None


def register_aggregate(aggregate_type: str, *, event_types: Iterable[str], fold: FoldFunction,
                       initial_state: Callable[[], State], snapshot_every: int | None = None) -> AggregateType:
    """Declare an aggregate kind. `snapshot_every=N` stores a snapshot every N versions (optional)."""
    declared = AggregateType(name=aggregate_type, event_types=frozenset(event_types), fold=fold,
                             initial_state=initial_state, snapshot_every=snapshot_every)
    if not declared.event_types:
        raise ImproperlyConfigured(f"Aggregate type {aggregate_type!r} declares no event types.")
    if snapshot_every is not None and snapshot_every < 1:
        raise ImproperlyConfigured("snapshot_every must be a positive number of versions.")
    existing = _aggregates.get(aggregate_type)
    if existing is not None and existing != declared:
        raise ImproperlyConfigured(f"Aggregate type {aggregate_type!r} is already registered differently.")
    _aggregates[aggregate_type] = declared
    return declared


def aggregate_type_get(aggregate_type: str) -> AggregateType:
    """The declared aggregate kind, or UnknownAggregateTypeError."""
    try:
        return _aggregates[aggregate_type]
    except KeyError:
        raise UnknownAggregateTypeError(f"Aggregate type {aggregate_type!r} is not registered.") from None


def unregister_aggregate(aggregate_type: str) -> None:
    """Remove a declaration (test support)."""
    _aggregates.pop(aggregate_type, None)


@dataclass(frozen=True)
class ProjectionRowWrite:
    """A projection's row, written on PostgreSQL by the append's own statement instead of a second one.

    `values` holds every column the projection sets (field name → Python value). The database fills in the rest
    from the append: its time into `clock_fields`, the position of its last event into `position_field`. `pk` is
    the row to update, or None to insert a new one. `instance`, when given, is the caller's copy of the row; it gets
    the written values afterwards.
    """

    model: type
    values: dict[str, Any]
    pk: Any | None
    clock_fields: tuple[str, ...]
    position_field: str
    instance: Any = None


@dataclass(frozen=True)
class Projection:
    """A read model fed by events in the appending transaction; `reset` empties it for a rebuild."""

    name: str
    apply: Callable[[Event], None]
    reset: Callable[[], None]
    aggregate_types: frozenset[str] | None = None
    # Optional: fold one append's events (same aggregate, version order) with one read and one write
    # instead of one of each per event. `event_append` prefers it; rebuilds use `apply`. It gets the appending
    # caller's locked copy of the projection row when the caller has one (`row_in_hand`), to skip the read.
    apply_batch: Callable[..., None] | None = None
    # Optional, PostgreSQL: the row this append's events fold into, for the append's statement to write itself
    # (one round trip less per append); None when the projection cannot say without reading (then `apply_batch`).
    row_write: Callable[..., ProjectionRowWrite | None] | None = None

    def apply_appended(self, events: Sequence[Event], *, row_in_hand: Any = None) -> None:
        """Fold the events of one append (inside the appending transaction)."""
        if self.apply_batch is not None:
            self.apply_batch(events, row_in_hand=row_in_hand)
            return
        for event in events:
            self.apply(event)

    def follows(self, aggregate_type: str) -> bool:
        return self.aggregate_types is None or aggregate_type in self.aggregate_types


def register_projection(name: str, *, apply: Callable[[Event], None], reset: Callable[[], None],
                        aggregate_types: Iterable[str] | None = None,
                        apply_batch: Callable[[Sequence[Event]], None] | None = None,
                        row_write: Callable[..., ProjectionRowWrite | None] | None = None) -> Projection:
    """Register a projection; `apply(event)` runs for each appended event of the followed aggregate types."""
    projection = Projection(name=name, apply=apply, reset=reset,
                            aggregate_types=frozenset(aggregate_types) if aggregate_types is not None else None,
                            apply_batch=apply_batch, row_write=row_write)
    existing = _projections.get(name)
    if existing is not None and existing != projection:
        raise ImproperlyConfigured(f"A projection named {name!r} is already registered.")
    _projections[name] = projection
    return projection


def projections_for(aggregate_type: str) -> list[Projection]:
    """Projections following `aggregate_type`, in registration order."""
    return [projection for projection in _projections.values() if projection.follows(aggregate_type)]


def projection_list() -> list[Projection]:
    """Every registered projection, in registration order."""
    return list(_projections.values())


def unregister_projection(name: str) -> None:
    """Remove a projection (test support)."""
    _projections.pop(name, None)


_aggregates: dict[str, AggregateType] = {}


_projections: dict[str, Projection] = {}
