"""outbox_enqueue: only inside a transaction, unique key, handler-defined queue and budget, on-commit nudge."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from outbox.eventstore.services import TransactionRequiredError
from outbox.models import OutboxMessage, OutboxStatus
from outbox.registry import UnknownMessageKindError
from outbox.services import DuplicateOutboxKeyError, outbox_enqueue
from tests.fixtures.outbox import ScriptedHandler


@pytest.fixture
def withdraw_handler(register_outbox_handler) -> ScriptedHandler:
    return register_outbox_handler("test_withdraw", ScriptedHandler(queue="core", max_attempts=10))


def _enqueue(**overrides) -> OutboxMessage:
    fields = {"key": "test_withdraw-tx1", "kind": "test_withdraw", "aggregate_id": "transfer-tx1", "event_version": 2,
              "event_type": "WithdrawRequested", "payload": {"amount": 1000}}
    with transaction.atomic():
        return outbox_enqueue(**{**fields, **overrides})


def test_enqueue_stores_a_due_pending_row_with_the_handlers_queue_and_budget(db, withdraw_handler):
    # given a handler for the kind (queue core, 10 attempts)
    # when a message is enqueued
    message = _enqueue()
    # then it is pending, due now, on the handler's queue with its attempt budget
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert (message.queue, message.max_attempts, message.retry_count) == ("core", 10, 0)
    assert message.payload == {"amount": 1000}
    assert message.next_attempt_at <= message.created_at + dt.timedelta(seconds=1)
    assert message.locked_by is None and message.processed_at is None


def test_enqueue_with_a_delay_schedules_the_first_attempt_later(db, withdraw_handler):
    # given a handler
    # when a message is enqueued with a 30 s delay
    message = _enqueue(delay_seconds=30)
    # then its first attempt is about 30 s after its creation (database clock)
    message.refresh_from_db()
    assert dt.timedelta(seconds=29) < message.next_attempt_at - message.created_at < dt.timedelta(seconds=31)


def test_duplicate_key_raises_conflict_and_keeps_the_first_row(db, withdraw_handler):
    # given a message with a key
    first = _enqueue()
    # when the same key is enqueued again
    with pytest.raises(DuplicateOutboxKeyError) as error:
        _enqueue(payload={"amount": 5})
    # then it is a 409 and the first row is untouched
    assert error.value.http_status == 409
    assert list(OutboxMessage.objects.values_list("id", "payload")) == [(first.id, {"amount": 1000})]


def test_enqueue_of_an_unregistered_kind_is_refused(db):
    # given no handler for the kind
    # when it is enqueued
    with pytest.raises(UnknownMessageKindError):
        _enqueue(kind="test_nobody")
    # then nothing was stored
    assert not OutboxMessage.objects.exists()


def test_enqueue_outside_a_transaction_is_refused(transactional_db, withdraw_handler):
    # given autocommit mode
    # when enqueueing without an atomic block
    with pytest.raises(TransactionRequiredError):
        outbox_enqueue(key="k", kind="test_withdraw", aggregate_id="a")
    # then nothing was stored
    assert not OutboxMessage.objects.exists()


def test_enqueue_nudges_the_relay_only_after_commit(db, withdraw_handler, outbox_nudges,
                                                    django_capture_on_commit_callbacks):
    # given a transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = _enqueue()
        # when it has not committed yet, then no wake-up was sent
        assert outbox_nudges == []
    # then after commit exactly one wake-up for the core queue names the message
    assert len(callbacks) == 1
    assert outbox_nudges == [{"queue": "core", "message_id": message.id}]
