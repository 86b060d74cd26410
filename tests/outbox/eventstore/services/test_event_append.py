"""event_append: versions, positions, metadata, declared types, optimistic concurrency, projections."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from config.errors import ConcurrencyError
from outbox.eventstore import registry as eventstore_registry
from outbox.eventstore.models import Event
from outbox.eventstore.registry import UndeclaredEventTypeError, UnknownAggregateTypeError
from outbox.eventstore.services import NewEvent, TransactionRequiredError, event_append
from tests.fixtures.outbox import COUNTER, counter_rows, decrement, increment, reset


def _append(aggregate_id: str, expected_version: int, *events: NewEvent, **kwargs) -> list[Event]:
    with transaction.atomic():
        return event_append(aggregate_type=COUNTER, aggregate_id=aggregate_id, expected_version=expected_version,
                            events=list(events), actor=kwargs.pop("actor", "user:42"),
                            correlation_id=kwargs.pop("correlation_id", "corr-1"), **kwargs)


def test_versions_start_at_one_and_are_gapless_when_appending_in_batches(counter_aggregate):
    # given a new aggregate
    # when three events are appended in two batches
    _append("counter-1", 0, increment(2), increment(3))
    _append("counter-1", 2, decrement(1))
    # then the versions are 1, 2, 3
    assert list(Event.objects.filter(aggregate_id="counter-1").order_by("version")
                .values_list("version", "type")) == [(1, "CounterIncremented"), (2, "CounterIncremented"),
                                                     (3, "CounterDecremented")]


def test_positions_are_gap_free_across_aggregates_when_appending(counter_aggregate):
    # given events already appended to two aggregates
    _append("counter-a", 0, increment())
    _append("counter-b", 0, increment(), increment())
    # when another one is appended
    _append("counter-a", 1, reset())
    # then the global positions are consecutive in append order
    positions = list(Event.objects.order_by("position").values_list("position", "aggregate_id"))
    first = positions[0][0]
    assert [position for position, _ in positions] == list(range(first, first + 4))
    assert [aggregate_id for _, aggregate_id in positions] == ["counter-a", "counter-b", "counter-b", "counter-a"]


def test_metadata_and_recorded_at_come_from_the_call_and_the_database_clock(counter_aggregate):
    # given a caller with an actor, a correlation and a causation id
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    # when it appends an event with extra metadata
    [event] = _append("counter-1", 0, NewEvent(type="CounterReset", status="reset", leg="WITHDRAW",
                                               metadata={"processHistoryEntry": {"status": "reset"}}),
                      actor="admin:7", correlation_id="corr-9", causation_id="cause-3")
    # then the standard metadata keys are set and the timestamp equals recorded_at
    event.refresh_from_db()
    assert event.metadata["actor"] == "admin:7"
    assert event.metadata["correlationId"] == "corr-9"
    assert event.metadata["causationId"] == "cause-3"
    assert event.metadata["eventVersion"] == "1.0"
    assert event.metadata["processHistoryEntry"] == {"status": "reset"}
    assert event.metadata["timestamp"] == event.recorded_at.astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.") + f"{event.recorded_at.microsecond // 1000:03d}Z"
    assert event.recorded_at > before
    assert (event.status, event.leg, event.aggregate_type) == ("reset", "WITHDRAW", COUNTER)
    assert event.event_id is not None


def test_stale_expected_version_raises_concurrency_error_and_writes_nothing(counter_aggregate):
    # given an aggregate at version 2
    _append("counter-1", 0, increment(), increment())
    # when a writer appends believing it is at version 1
    with pytest.raises(ConcurrencyError) as error:
        _append("counter-1", 1, increment())
    # then it gets a 409 naming both versions, and nothing was written
    assert error.value.http_status == 409
    assert error.value.extra == {"aggregateId": "counter-1", "expectedVersion": 1, "currentVersion": 2}
    assert Event.objects.filter(aggregate_id="counter-1").count() == 2


def test_new_aggregate_append_to_an_existing_id_raises_concurrency_error_and_writes_nothing(counter_aggregate):
    # given an aggregate at version 2 (a new-aggregate append skips the head read and relies on the unique index)
    _append("counter-1", 0, increment(), increment())
    # when a writer starts the same aggregate again (expected version 0)
    with pytest.raises(ConcurrencyError) as error:
        _append("counter-1", 0, increment())
    # then it gets the same 409 as a stale version, nothing was written, and the next append takes the next position
    assert error.value.extra == {"aggregateId": "counter-1", "expectedVersion": 0, "currentVersion": 2}
    assert Event.objects.filter(aggregate_id="counter-1").count() == 2
    _append("counter-2", 0, increment())
    positions = list(Event.objects.order_by("position").values_list("position", "aggregate_id"))
    assert [aggregate_id for _, aggregate_id in positions] == ["counter-1", "counter-1", "counter-2"]
    if connection.vendor == "sqlite":
        # SQLite's counter row rolled back with the failed append: the next append takes the next position.
        assert [position for position, _ in positions] == list(range(positions[0][0], positions[0][0] + 3))


def test_undeclared_event_type_is_refused_when_appending(counter_aggregate):
    # given the counter's closed set of event types
    # when an event outside it is appended
    with pytest.raises(UndeclaredEventTypeError):
        _append("counter-1", 0, NewEvent(type="AccountOpened"))
    # then nothing was written
    assert not Event.objects.exists()


def test_unknown_aggregate_type_is_refused_when_appending(db):
    # given no app declared "spaceship"
    # when an event is appended to one
    with pytest.raises(UnknownAggregateTypeError):
        with transaction.atomic():
            event_append(aggregate_type="spaceship", aggregate_id="ship-1", expected_version=0,
                         events=[NewEvent(type="Launched")], actor="user:1", correlation_id="c")
    # then nothing was written
    assert not Event.objects.exists()


def test_append_outside_a_transaction_is_refused(transactional_db, counter_aggregate):
    # given no atomic block (a transactional test runs in autocommit)
    # when appending
    with pytest.raises(TransactionRequiredError):
        event_append(aggregate_type=COUNTER, aggregate_id="counter-1", expected_version=0, events=[increment()],
                     actor="user:1", correlation_id="c")
    # then nothing was written
    assert not Event.objects.exists()


def test_aggregate_id_of_another_type_is_refused(counter_aggregate):
    # given an aggregate id already used by the counter type

    eventstore_registry.register_aggregate("test_other", event_types={"CounterReset"}, fold=lambda s, e: s,
                                           initial_state=dict)
    _append("counter-1", 0, increment())
    # when another aggregate type appends to the same id
    with pytest.raises(ValueError, match="is a 'test_counter'"):
        with transaction.atomic():
            event_append(aggregate_type="test_other", aggregate_id="counter-1", expected_version=1,
                         events=[reset()], actor="user:1", correlation_id="c")
    eventstore_registry.unregister_aggregate("test_other")
    # then the stream is unchanged
    assert Event.objects.filter(aggregate_id="counter-1").count() == 1


def test_new_aggregate_of_another_type_on_an_existing_id_is_refused(counter_aggregate):
    # given an aggregate id already used by the counter type

    eventstore_registry.register_aggregate("test_other", event_types={"CounterReset"}, fold=lambda s, e: s,
                                           initial_state=dict)
    _append("counter-1", 0, increment())
    # when another aggregate type starts a new aggregate with that id
    try:
        with pytest.raises(ValueError, match="is a 'test_counter'"):
            with transaction.atomic():
                event_append(aggregate_type="test_other", aggregate_id="counter-1", expected_version=0,
                             events=[reset()], actor="user:1", correlation_id="c")
    finally:
        eventstore_registry.unregister_aggregate("test_other")
    # then the stream is unchanged
    assert Event.objects.filter(aggregate_id="counter-1").count() == 1


def test_projection_is_updated_in_the_appending_transaction(counter_aggregate):
    # given a counter with its projection row
    _append("counter-1", 0, increment(5))
    # when more events are appended
    events = _append("counter-1", 1, decrement(2), increment(10))
    # then the projection row reflects every event, with the last position
    assert counter_rows() == [("counter-1", 13, 3, events[-1].position)]


def test_empty_batch_appends_nothing(counter_aggregate):
    # given nothing to append
    # when appending an empty list
    appended = _append("counter-1", 0)
    # then nothing happens
    assert appended == []
    assert not Event.objects.exists()


def test_snapshot_is_stored_every_n_versions_when_declared(db):
    # given the counter declared with a snapshot every 2 versions
    from outbox.eventstore.models import Snapshot
    from tests.fixtures.outbox import counter_register

    counter_register(snapshot_every=2)
    try:
        # when five events are appended one by one
        for version in range(5):
            _append("counter-s", version, increment())
        # then snapshots exist at versions 2 and 4
        assert list(Snapshot.objects.filter(aggregate_id="counter-s").order_by("version")
                    .values_list("version", "state")) == [
            (2, {"value": 2, "version": 2, "types": ["CounterIncremented"] * 2}),
            (4, {"value": 4, "version": 4, "types": ["CounterIncremented"] * 4}),
        ]
    finally:
        eventstore_registry.unregister_aggregate(COUNTER)
