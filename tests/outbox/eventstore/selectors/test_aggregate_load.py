"""aggregate_load / events_for_aggregate: state is a fold over events, at a version or an instant."""
from __future__ import annotations

import time

from outbox.eventstore.selectors import EVENT_LOG_START, aggregate_load, events_after, events_for_aggregate
from outbox.eventstore.services import snapshot_save
from tests.fixtures.outbox import counter_change, decrement, increment, reset


def test_load_folds_all_events_into_the_current_state(counter_aggregate):
    # given a counter with four events
    counter_change(aggregate_id="counter-1", expected_version=0, events=[increment(5), increment(3)])
    counter_change(aggregate_id="counter-1", expected_version=2, events=[decrement(2), increment(10)])
    # when it is loaded
    loaded = aggregate_load(aggregate_id="counter-1")
    # then the state is the fold of all four
    assert (loaded.aggregate_type, loaded.version) == ("test_counter", 4)
    assert loaded.state == {"value": 16, "version": 4, "types": ["CounterIncremented", "CounterIncremented",
                                                                 "CounterDecremented", "CounterIncremented"]}


def test_load_as_of_an_instant_returns_the_state_at_that_time(counter_aggregate):
    # given events appended at three distinct database times
    [first] = counter_change(aggregate_id="counter-1", expected_version=0, events=[increment(5)])
    time.sleep(0.01)
    [second] = counter_change(aggregate_id="counter-1", expected_version=1, events=[increment(7)])
    time.sleep(0.01)
    counter_change(aggregate_id="counter-1", expected_version=2, events=[reset()])
    # when it is loaded as of each instant
    at_first = aggregate_load(aggregate_id="counter-1", as_of=first.recorded_at)
    at_second = aggregate_load(aggregate_id="counter-1", as_of=second.recorded_at)
    now = aggregate_load(aggregate_id="counter-1")
    # then each is the historic state ("time travel")
    assert (at_first.version, at_first.state["value"]) == (1, 5)
    assert (at_second.version, at_second.state["value"]) == (2, 12)
    assert (now.version, now.state["value"]) == (3, 0)
    history = events_for_aggregate(aggregate_id="counter-1", as_of=second.recorded_at)
    assert [event.version for event in history] == [1, 2]


def test_load_before_the_first_event_or_of_an_unknown_aggregate_returns_none(counter_aggregate):
    # given a counter created now
    [first] = counter_change(aggregate_id="counter-1", expected_version=0, events=[increment()])
    # when loading before it existed, or an id never used
    # then there is no state
    assert aggregate_load(aggregate_id="counter-1", as_of=first.recorded_at.replace(year=2000)) is None
    assert aggregate_load(aggregate_id="counter-unknown") is None


def test_load_at_a_version_uses_a_snapshot_and_gives_the_same_state(counter_aggregate):
    # given a counter with a snapshot at version 2 and more events after it
    counter_change(aggregate_id="counter-1", expected_version=0, events=[increment(5), increment(3)])
    snapshot_save(aggregate_id="counter-1")
    counter_change(aggregate_id="counter-1", expected_version=2, events=[decrement(1)])
    # when loading with and without the snapshot, now and at version 1
    with_snapshot = aggregate_load(aggregate_id="counter-1")
    without_snapshot = aggregate_load(aggregate_id="counter-1", use_snapshot=False)
    at_one = aggregate_load(aggregate_id="counter-1", version=1)
    # then the snapshot was used when it applies, and the states are identical
    assert with_snapshot.from_snapshot_version == 2 and without_snapshot.from_snapshot_version == 0
    assert with_snapshot.state == without_snapshot.state == {
        "value": 7, "version": 3, "types": ["CounterIncremented", "CounterIncremented", "CounterDecremented"]}
    assert (at_one.from_snapshot_version, at_one.state["value"]) == (0, 5)


def test_events_after_pages_through_the_committed_log(transactional_db, counter_aggregate):
    # given events on two aggregates, committed
    counter_change(aggregate_id="counter-a", expected_version=0, events=[increment(), increment()])
    counter_change(aggregate_id="counter-b", expected_version=0, events=[increment()])
    # when a reader pages from the start with a page of two
    first_page = events_after(cursor=EVENT_LOG_START, limit=2)
    second_page = events_after(cursor=first_page.cursor, limit=2)
    last_page = events_after(cursor=second_page.cursor, limit=2)
    # then it reads every event once, in commit order, and an empty page keeps the cursor
    assert [(event.aggregate_id, event.version) for event in first_page.events + second_page.events] == [
        ("counter-a", 1), ("counter-a", 2), ("counter-b", 1)]
    assert last_page.events == [] and last_page.cursor == second_page.cursor
