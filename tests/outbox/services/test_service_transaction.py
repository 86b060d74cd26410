"""A service's events, projection rows and outbox rows commit or roll back together (R6)."""
from __future__ import annotations

import pytest
from django.db import connection

from outbox.eventstore.models import Event
from outbox.models import OutboxMessage
from tests.fixtures.outbox import CounterCommandFailed, ScriptedHandler, counter_change, counter_rows, increment


@pytest.fixture
def counter_with_handler(transactional_db, counter_aggregate, register_outbox_handler, outbox_nudges):
    register_outbox_handler("test_notify_counter", ScriptedHandler(queue="notify"))
    return "test_notify_counter"


@pytest.mark.parametrize("fail_at", ["after_events", "after_outbox"])
def test_events_projection_and_outbox_row_roll_back_together_when_the_service_fails(counter_with_handler, fail_at,
                                                                                     outbox_nudges):
    # given a counter at version 1 with its projection row
    [first] = counter_change(aggregate_id="counter-1", expected_version=0, events=[increment(1)])
    rows_before = counter_rows()
    # when a service appends events, enqueues a message and then fails mid-way
    with pytest.raises(CounterCommandFailed):
        counter_change(aggregate_id="counter-1", expected_version=1, events=[increment(5), increment(6)],
                       message_kind=counter_with_handler, fail_at=fail_at)
    # then neither events, nor projection change, nor outbox row, nor relay wake-up survive
    assert list(Event.objects.values_list("version", flat=True)) == [1]
    assert counter_rows() == rows_before
    assert not OutboxMessage.objects.exists()
    assert outbox_nudges == []
    # and the aggregate continues at the version after the last committed one, at a later position
    [second] = counter_change(aggregate_id="counter-1", expected_version=1, events=[increment(2)])
    assert second.version == 2 and second.position > first.position
    if connection.vendor == "sqlite":
        # SQLite's position counter row rolled back with the failed service: no gap
        assert second.position == first.position + 1


def test_events_and_outbox_row_commit_together_and_nudge_the_relay_after_commit(counter_with_handler, outbox_nudges):
    # given a counter
    # when a service appends an event and enqueues a message
    [event] = counter_change(aggregate_id="counter-1", expected_version=0, events=[increment(3)],
                             message_kind=counter_with_handler)
    # then both are stored, linked by aggregate and version, and the notify relay was woken once
    message = OutboxMessage.objects.get()
    assert (message.aggregate_id, message.event_version, message.event_type) == ("counter-1", 1, "CounterIncremented")
    assert message.key == "test_notify_counter-counter-1-v1"
    assert event.version == 1
    assert outbox_nudges == [{"queue": "notify", "message_id": message.id}]
