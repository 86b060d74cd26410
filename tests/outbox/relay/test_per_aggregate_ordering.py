"""Messages of one aggregate are handled in order within a queue; other aggregates and queues do not wait."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.db.models.functions import Now

from outbox import relay
from outbox.models import OutboxMessage, OutboxStatus
from outbox.registry import Delivery
from outbox.services import outbox_enqueue
from tests.fixtures.outbox import ScriptedHandler


@pytest.fixture
def handlers(register_outbox_handler):
    return {"core": register_outbox_handler("test_leg", ScriptedHandler(queue="core", max_attempts=5)),
            "mail": register_outbox_handler("test_mail", ScriptedHandler(queue="notify"))}


def _enqueue(key: str, kind: str, aggregate_id: str) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(key=key, kind=kind, aggregate_id=aggregate_id)


def _claimed_keys(queue: str) -> list[str]:
    claimed = relay.claim(queue=queue, worker_id=f"w-{queue}", batch_size=10, lease_seconds=60)
    return [message.key for message in claimed]


def test_later_message_waits_while_an_earlier_one_of_the_same_aggregate_is_pending_or_in_flight(db, handlers):
    # given two legs of aggregate A, one leg of B, and a mail of A on the notify queue
    _enqueue("a-1", "test_leg", "A")
    _enqueue("a-2", "test_leg", "A")
    _enqueue("b-1", "test_leg", "B")
    _enqueue("a-mail", "test_mail", "A")
    # when a worker claims the core queue
    first_claim = _claimed_keys("core")
    # then A's second leg waits; B and A's mail (other queue) are not blocked
    assert first_claim == ["a-1", "b-1"]
    assert _claimed_keys("notify") == ["a-mail"]
    # and while a-1 is in flight, a-2 still waits
    assert _claimed_keys("core") == []


def test_later_message_is_claimed_once_the_earlier_one_completed(db, handlers):
    # given two legs of one aggregate
    _enqueue("a-1", "test_leg", "A")
    _enqueue("a-2", "test_leg", "A")
    # when the relay drains until nothing is claimed
    relay.drain(queue="core", worker_id="w1", max_batches=None)
    # then both were delivered, in order
    assert handlers["core"].hook_calls("deliver") == ["a-1", "a-2"]


def test_earlier_message_in_backoff_keeps_blocking_the_later_one(db, handlers):
    # given an earlier message rescheduled far in the future after a failure, and a due later one
    handlers["core"].outcomes = [Delivery.retry(error="HTTP 503")]
    first = _enqueue("a-1", "test_leg", "A")
    relay.drain(queue="core", worker_id="w1")
    OutboxMessage.objects.filter(pk=first.pk).update(next_attempt_at=Now() + dt.timedelta(minutes=5))
    _enqueue("a-2", "test_leg", "A")
    # when a worker claims
    # then the later one is not delivered ahead of it
    assert _claimed_keys("core") == []


def test_dead_lettered_message_does_not_block_later_ones(db, handlers):
    # given an earlier message of A that is a dead letter
    first = _enqueue("a-1", "test_leg", "A")
    OutboxMessage.objects.filter(pk=first.pk).update(status=OutboxStatus.FAILED)
    _enqueue("a-2", "test_leg", "A")
    # when a worker claims
    # then the later message proceeds (only pending/in-flight rows hold an aggregate)
    assert _claimed_keys("core") == ["a-2"]
