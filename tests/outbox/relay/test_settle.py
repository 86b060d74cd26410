"""relay.settle via drain: outcomes, hooks in the settle transaction, fencing, progress, exceptions."""
from __future__ import annotations

import logging
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox import relay
from outbox.eventstore.models import Event
from outbox.eventstore.services import event_append
from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from outbox.registry import Delivery, handler_get
from tests.fixtures.outbox import COUNTER, EffectHandler, ScriptedHandler, enqueue_messages, increment


@pytest.fixture
def withdraw(register_outbox_handler) -> ScriptedHandler:
    return register_outbox_handler("test_withdraw", ScriptedHandler(queue="core", max_attempts=3))


def test_success_completes_the_row_runs_on_success_and_logs_the_attempt(db, withdraw):
    # given a due message
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains the queue
    result = relay.drain(queue="core", worker_id="w1")
    # then it was completed, with one success attempt
    assert result.succeeded == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.COMPLETED
    assert message.processed_at is not None and message.locked_by is None
    assert withdraw.hook_calls("on_success") == [message.key]
    [attempt] = message.attempts.all()
    assert (attempt.outcome, attempt.http_status, attempt.worker, attempt.attempt_no) == (
        AttemptOutcome.SUCCESS, 200, "w1", 1)
    assert attempt.started_at <= attempt.finished_at


def test_deliver_runs_outside_any_transaction_and_hooks_inside(transactional_db, withdraw, outbox_nudges):
    # given a handler that notes whether a transaction is open in deliver and in on_success
    in_transaction = {}
    withdraw.deliver_action = lambda message: in_transaction.setdefault("deliver", connection.in_atomic_block)
    withdraw.on_success_action = lambda message, delivery: in_transaction.setdefault(
        "on_success", connection.in_atomic_block)
    enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains (autocommit: a transactional test)
    relay.drain(queue="core")
    # then network I/O ran with no transaction open, and the hook inside the settle transaction
    assert in_transaction == {"deliver": False, "on_success": True}


def test_success_without_hooks_takes_the_one_statement_path(db, register_outbox_handler, effect_store):
    # given a hook-less handler and a claimed message
    register_outbox_handler("test_effect", EffectHandler())
    [message] = enqueue_messages(kind="test_effect", count=1)
    [claimed] = relay.claim(queue="core", worker_id="w1", batch_size=1, lease_seconds=60)
    # when its success is settled
    with CaptureQueriesContext(connection) as queries:
        relay.settle(message=claimed, delivery=Delivery.success(http_status=200),
                     handler=handler_get("test_effect"), worker_id="w1")
    # then PostgreSQL needs one statement (fenced update + attempt insert), SQLite two; the row is completed
    statements = [query["sql"] for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    message.refresh_from_db()
    assert message.status == OutboxStatus.COMPLETED
    assert message.attempts.get().outcome == AttemptOutcome.SUCCESS


def test_definitive_failure_completes_the_row_and_runs_on_failure(db, withdraw):
    # given a handler that reports a definitive refusal
    withdraw.outcomes = [Delivery.failed(error="INSUFFICIENT_FUNDS", http_status=409)]
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains
    result = relay.drain(queue="core", worker_id="w1")
    # then the failure was handled: row completed, on_failure ran, attempt is definitive
    assert result.failed == 1
    message.refresh_from_db()
    assert (message.status, message.error_message) == (OutboxStatus.COMPLETED, "INSUFFICIENT_FUNDS")
    assert withdraw.hook_calls("on_failure") == [message.key]
    assert list(message.attempts.values_list("outcome", "http_status")) == [(AttemptOutcome.DEFINITIVE, 409)]


def test_hooks_write_in_the_settle_transaction(db, withdraw, counter_aggregate):
    # given an on_success hook that appends an event (like WITHDRAW_PROCESSED)
    def append_processed(message, delivery):
        event_append(aggregate_type=COUNTER, aggregate_id=message.aggregate_id, expected_version=0,
                     events=[increment(delivery.result["amount"])], actor="system:relay", correlation_id=message.key)

    withdraw.on_success_action = append_processed
    withdraw.outcomes = [Delivery.success(http_status=200, result={"amount": 7})]
    [message] = enqueue_messages(kind="test_withdraw", count=1, aggregate_id="counter-1")
    # when the relay drains
    relay.drain(queue="core", worker_id="w1")
    # then the event and the completed row were committed together
    assert Event.objects.get(aggregate_id="counter-1").data == {"amount": 7}
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.COMPLETED


def test_failing_success_hook_rolls_back_and_reschedules_the_message(db, withdraw, fast_retries):
    # given an on_success hook that fails (e.g. lost a version race)
    def fail(message, delivery):
        raise RuntimeError("boom")

    withdraw.on_success_action = fail
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains once
    result = relay.drain(queue="core", worker_id="w1")
    # then the row is pending again with a retryable attempt naming the hook failure
    assert result.retried == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert list(message.attempts.values_list("outcome", "error")) == [
        (AttemptOutcome.RETRYABLE, "success hook failed: RuntimeError")]


def test_exception_in_deliver_counts_as_ambiguous_retry_with_the_class_name_only(db, withdraw):
    # given a handler that raises with a message that must not be stored
    withdraw.outcomes = [TimeoutError("secret details")]
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains
    relay.drain(queue="core", worker_id="w1")
    # then the attempt is ambiguous, the error is the class name only, the row pending for a retry
    message.refresh_from_db()
    assert (message.status, message.error_message, message.retry_count) == (OutboxStatus.PENDING, "TimeoutError", 1)
    assert list(message.attempts.values_list("outcome", "error")) == [(AttemptOutcome.AMBIGUOUS, "TimeoutError")]


def test_progress_is_merged_and_kept_across_retries(db, withdraw, fast_retries):
    # given a handler that records progress, fails retryably, then succeeds
    withdraw.outcomes = [Delivery.retry(error="HTTP 503", http_status=503, progress={"customerId": "C1"}),
                         Delivery.success(http_status=201, progress={"accountId": "A1"})]
    seen_progress = []
    withdraw.deliver_action = lambda message: seen_progress.append(dict(message.progress))
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains until done
    relay.drain(queue="core", worker_id="w1", max_batches=None)
    # then the second delivery saw the first one's progress, and both are stored
    assert seen_progress == [{}, {"customerId": "C1"}]
    message.refresh_from_db()
    assert message.progress == {"customerId": "C1", "accountId": "A1"}
    assert list(message.attempts.values_list("outcome", "http_status")) == [
        (AttemptOutcome.RETRYABLE, 503), (AttemptOutcome.SUCCESS, 201)]


def test_defer_returns_the_row_without_consuming_an_attempt(db, withdraw):
    # given a handler whose circuit is open
    withdraw.outcomes = [Delivery.defer(seconds=5, error="circuit open")]
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains
    result = relay.drain(queue="core", worker_id="w1")
    # then the row waits ~5 s, its attempt count unchanged and no attempt row written
    assert result.deferred == 1
    message.refresh_from_db()
    assert (message.status, message.retry_count) == (OutboxStatus.PENDING, 0)
    assert 4 <= (message.next_attempt_at - message.updated_at).total_seconds() <= 6
    assert not message.attempts.exists()


def test_result_of_a_worker_that_lost_its_lease_is_discarded(db, withdraw, caplog):
    # given a message claimed by w1, then reclaimed and claimed by w2 after w1's lease expired
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    [claimed_by_w1] = relay.claim(queue="core", worker_id="w1", batch_size=1, lease_seconds=60)
    OutboxMessage.objects.filter(pk=message.pk).update(locked_by="w2")
    # when w1 finally settles its (late) result
    with caplog.at_level(logging.WARNING, logger="bank.outbox.relay"):
        outcome = relay.settle(message=claimed_by_w1, delivery=Delivery.success(), handler=handler_get("test_withdraw"),
                               worker_id="w1")
    # then the result is discarded: the row still belongs to w2 and no attempt or hook was recorded
    assert outcome == "discarded"
    message.refresh_from_db()
    assert (message.status, message.locked_by) == (OutboxStatus.PROCESSING, "w2")
    assert not message.attempts.exists()
    assert withdraw.hook_calls("on_success") == []
    assert "discarded" in caplog.text


def test_rows_left_when_the_lease_budget_is_spent_are_released_unattempted(db, withdraw):
    # given a batch of three, a 0.5 s lease and a first delivery that takes longer than 80 % of it
    messages = enqueue_messages(kind="test_withdraw", count=3)
    withdraw.deliver_action = lambda message: time.sleep(0.45)
    # when the relay drains one batch
    result = relay.drain(queue="core", worker_id="w1", batch_size=3, lease_seconds=0.5)
    # then the first row was delivered and the other two went back untouched, before their lease expired
    assert (result.succeeded, result.released) == (1, 2)
    for message in messages[1:]:
        message.refresh_from_db()
        assert (message.status, message.retry_count, message.locked_by) == (OutboxStatus.PENDING, 0, None)


def test_unknown_kind_is_retried_not_lost(db, withdraw):
    # given a row whose kind lost its handler (e.g. a deploy removed it)
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    OutboxMessage.objects.filter(pk=message.pk).update(kind="test_gone")
    # when the relay drains
    relay.drain(queue="core", worker_id="w1")
    # then the row waits for a retry with the reason recorded
    message.refresh_from_db()
    assert (message.status, message.error_message) == (OutboxStatus.PENDING, "UnknownMessageKindError")
