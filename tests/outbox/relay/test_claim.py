"""relay.claim: due pending rows of one queue, oldest first, stamped in flight; locked rows are skipped."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.db.models.functions import Now

from outbox import registry, relay
from outbox.models import OutboxMessage, OutboxStatus
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages


@pytest.fixture
def handlers(register_outbox_handler):
    return {"core": register_outbox_handler("test_withdraw", ScriptedHandler(queue="core")),
            "mail": register_outbox_handler("test_mail", ScriptedHandler(queue="notify"))}


def test_claim_marks_due_rows_processing_with_a_lease_and_counts_the_attempt(db, handlers):
    # given three due core rows and a mail row
    messages = enqueue_messages(kind="test_withdraw", count=3)
    enqueue_messages(kind="test_mail", count=1)
    # when a worker claims a batch of two from the core queue with a 60 s lease
    claimed = relay.claim(queue="core", worker_id="w1", batch_size=2, lease_seconds=60)
    # then the two oldest core rows are processing, locked by the worker until ~60 s later, attempt 1
    assert [message.id for message in claimed] == [messages[0].id, messages[1].id]
    for message in claimed:
        assert (message.status, message.locked_by, message.retry_count) == (OutboxStatus.PROCESSING, "w1", 1)
        assert 59 <= (message.locked_until - message.updated_at).total_seconds() <= 61
    assert OutboxMessage.objects.get(pk=messages[2].pk).status == OutboxStatus.PENDING
    assert OutboxMessage.objects.filter(queue="notify", status=OutboxStatus.PENDING).count() == 1


def test_claim_skips_rows_that_are_not_due_yet(db, handlers):
    # given a row due in 30 s and a due one created after it
    later = enqueue_messages(kind="test_withdraw", count=1, key_prefix="later", delay_seconds=30)[0]
    due = enqueue_messages(kind="test_withdraw", count=1, key_prefix="due")[0]
    # when a worker claims
    claimed = relay.claim(queue="core", worker_id="w1", batch_size=10, lease_seconds=60)
    # then only the due row is claimed
    assert [message.id for message in claimed] == [due.id]
    assert OutboxMessage.objects.get(pk=later.pk).status == OutboxStatus.PENDING


def test_claim_orders_by_next_attempt_time_then_id(db, handlers):
    # given rows whose retry times differ from their insertion order
    first, second, third = enqueue_messages(kind="test_withdraw", count=3)
    OutboxMessage.objects.filter(pk=second.pk).update(next_attempt_at=Now() - dt.timedelta(seconds=10))
    OutboxMessage.objects.filter(pk=third.pk).update(next_attempt_at=Now() - dt.timedelta(seconds=5))
    # when a worker claims them
    claimed = relay.claim(queue="core", worker_id="w1", batch_size=10, lease_seconds=60)
    # then the row with the latest next_attempt_at comes last
    assert [message.id for message in claimed] == [second.id, third.id, first.id]


def test_on_claim_runs_with_no_transaction_open_before_each_delivery_not_in_the_claim(transactional_db, handlers):
    # given a handler that records, in on_claim, whether a transaction is open and what was delivered so far
    seen = []
    handlers["core"].on_claim_action = lambda message: seen.append(
        (message.key, connection.in_atomic_block, list(handlers["core"].hook_calls("deliver"))))
    first, second = enqueue_messages(kind="test_withdraw", count=2)
    # when claiming only, no hook runs
    claimed = relay.claim(queue="core", worker_id="w1", batch_size=10, lease_seconds=60)
    assert seen == []
    # when the relay then works through the claimed batch
    for message in claimed:
        assert relay.start(message=message, handler=registry.handler_find(message.kind)) is None
        relay.deliver(message=message, handler=registry.handler_find(message.kind))
    # then each hook ran right before that row's delivery, with no transaction open (its service makes its own
    # writes atomic; the relay holds nothing across it)
    assert seen == [(first.key, False, []), (second.key, False, [first.key])]


def test_on_claim_failure_of_one_row_does_not_block_the_batch(db, handlers, fast_retries):
    # given a handler whose on_claim fails for the first message only
    first, second = enqueue_messages(kind="test_withdraw", count=2)

    def fail_first(message):
        if message.id == first.id:
            raise KeyError("boom")

    handlers["core"].on_claim_action = fail_first
    # when the relay drains
    result = relay.drain(queue="core", worker_id="w1", batch_size=10)
    # then the second row was delivered and the first was rescheduled as a retryable failure
    assert (result.succeeded, result.retried) == (1, 1)
    first.refresh_from_db()
    assert first.status == OutboxStatus.PENDING
    assert first.attempts.get().error == "on_claim failed: KeyError"
    assert handlers["core"].hook_calls("deliver") == [second.key]


@pytest.mark.postgres
def test_claim_skips_rows_locked_by_another_claimer(transactional_db, handlers):
    # given a row locked by another transaction that has not committed yet
    locked, free = enqueue_messages(kind="test_withdraw", count=2)
    holding, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            list(OutboxMessage.objects.select_for_update().filter(pk=locked.pk))
            holding.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert holding.wait(10)
    try:
        # when this worker claims
        claimed = relay.claim(queue="core", worker_id="w1", batch_size=10, lease_seconds=60)
    finally:
        release.set()
        holder.join()
    # then it got the free row without waiting for the lock
    assert [message.id for message in claimed] == [free.id]
