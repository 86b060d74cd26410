"""Events and attempt rows are append-only: the models refuse changes, and on PostgreSQL a trigger does too."""
from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from outbox.eventstore.models import AppendOnlyError, Event
from outbox.models import AttemptOutcome, OutboxAttempt
from tests.fixtures.outbox import counter_change, enqueue_messages, increment


@pytest.fixture
def stored_event(counter_aggregate) -> Event:
    [event] = counter_change(aggregate_id="counter-1", expected_version=0, events=[increment()])
    return event


def test_model_refuses_to_update_an_event(stored_event):
    # given a stored event
    # when it is changed and saved
    stored_event.type = "CounterReset"
    with pytest.raises(AppendOnlyError):
        stored_event.save()
    # then the row is unchanged
    assert Event.objects.get(pk=stored_event.pk).type == "CounterIncremented"


def test_model_refuses_to_delete_an_event(stored_event):
    # given a stored event
    # when it is deleted through the model
    with pytest.raises(AppendOnlyError):
        stored_event.delete()
    # then it still exists
    assert Event.objects.filter(pk=stored_event.pk).exists()


def test_model_refuses_to_update_an_attempt_row(db, register_outbox_handler):
    # given an attempt row
    from tests.fixtures.outbox import ScriptedHandler

    register_outbox_handler("test_mail", ScriptedHandler(queue="notify"))
    [message] = enqueue_messages(kind="test_mail", count=1)
    attempt = OutboxAttempt.objects.create(message=message, attempt_no=1, outcome=AttemptOutcome.SUCCESS)
    # when it is changed and saved
    attempt.outcome = AttemptOutcome.RETRYABLE
    with pytest.raises(AppendOnlyError):
        attempt.save()
    # then the row is unchanged
    assert OutboxAttempt.objects.get(pk=attempt.pk).outcome == AttemptOutcome.SUCCESS


@pytest.mark.postgres
def test_database_trigger_rejects_update_and_delete_of_events(stored_event):
    # given a stored event and code that bypasses the model (queryset update/delete, raw SQL)
    attempts = [
        lambda: Event.objects.filter(pk=stored_event.pk).update(type="CounterReset"),
        lambda: Event.objects.filter(pk=stored_event.pk).delete(),
        lambda: connection.cursor().execute("UPDATE outbox_event SET data = '{}'::jsonb"),
        lambda: connection.cursor().execute("DELETE FROM outbox_event"),
    ]
    for attempt in attempts:
        # when each statement runs
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                attempt()
    # then the event is untouched
    stored = Event.objects.get(pk=stored_event.pk)
    assert (stored.type, stored.data) == ("CounterIncremented", {"amount": 1})


@pytest.mark.postgres
def test_database_trigger_rejects_update_of_attempt_rows(db, register_outbox_handler):
    # given an attempt row
    from tests.fixtures.outbox import ScriptedHandler

    register_outbox_handler("test_mail", ScriptedHandler(queue="notify"))
    [message] = enqueue_messages(kind="test_mail", count=1)
    attempt = OutboxAttempt.objects.create(message=message, attempt_no=1, outcome=AttemptOutcome.SUCCESS)
    # when a queryset update bypasses the model
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            OutboxAttempt.objects.filter(pk=attempt.pk).update(outcome=AttemptOutcome.RETRYABLE)
    # then it is unchanged
    assert OutboxAttempt.objects.get(pk=attempt.pk).outcome == AttemptOutcome.SUCCESS
