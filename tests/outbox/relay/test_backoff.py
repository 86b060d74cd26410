"""Backoff (full jitter, capped, from the database clock) and dead-lettering after max attempts (R15)."""
from __future__ import annotations

import logging

import pytest

from outbox import relay
from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from outbox.registry import Delivery
from outbox.services import outbox_replay
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages


class UpperBound:
    """A jitter source that always returns the top of the range, so the schedule is visible."""

    def uniform(self, low: float, high: float) -> float:
        return high


@pytest.fixture
def withdraw(register_outbox_handler) -> ScriptedHandler:
    return register_outbox_handler("test_withdraw", ScriptedHandler(
        queue="core", max_attempts=4, outcomes=[Delivery.retry(error="HTTP 503", http_status=503)]))


@pytest.mark.parametrize(("attempt", "bound"), [(1, 1.0), (2, 2.0), (3, 4.0), (9, 256.0), (10, 300.0), (80, 300.0)])
def test_backoff_bound_doubles_per_attempt_up_to_the_cap(monkeypatch, attempt, bound):
    # given a jitter source pinned to the top of its range
    monkeypatch.setattr(relay, "jitter_random", UpperBound())
    # when the delay of an attempt is computed (base 1 s, cap 300 s)
    delay = relay.backoff_delay_seconds(attempt=attempt, base_seconds=1, cap_seconds=300)
    # then it is min(cap, base * 2^(attempt-1))
    assert delay == bound


def test_backoff_is_full_jitter_between_zero_and_the_bound():
    # given the real jitter source
    # when many delays of attempt 4 (bound 8 s) are drawn
    delays = [relay.backoff_delay_seconds(attempt=4, base_seconds=1, cap_seconds=300) for _ in range(500)]
    # then all lie in [0, 8] and they spread over the range
    assert all(0 <= delay <= 8 for delay in delays)
    assert min(delays) < 1 and max(delays) > 7


def test_retry_schedules_the_next_attempt_from_the_database_clock(db, withdraw, monkeypatch, settings):
    # given backoff base 2 s, cap 300 s, jitter pinned to the bound, and a message failing retryably
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 2
    monkeypatch.setattr(relay, "jitter_random", UpperBound())
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    schedule = []
    for attempt in (1, 2, 3):
        # when the relay delivers the attempt
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)
        relay.drain(queue="core", worker_id="w1")
        message.refresh_from_db()
        schedule.append(round((message.next_attempt_at - message.updated_at).total_seconds(), 1))
        # then the row waits in pending with the error and the attempt count
        assert (message.status, message.retry_count, message.error_message) == (OutboxStatus.PENDING, attempt,
                                                                                "HTTP 503")
    # and the delays doubled: 2 s, 4 s, 8 s after the database time of the settle
    assert schedule == [2.0, 4.0, 8.0]


def test_message_is_dead_lettered_with_an_alert_after_max_attempts(db, withdraw, fast_retries, caplog):
    # given a handler that always fails retryably, with 4 attempts allowed
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    # when the relay drains until nothing is due
    with caplog.at_level(logging.ERROR, logger="bank.outbox"):
        result = relay.drain(queue="core", worker_id="w1", max_batches=None)
    # then it was attempted exactly 4 times and is now a dead letter flagged for attention
    assert (result.retried, result.dead_lettered) == (3, 1)
    message.refresh_from_db()
    assert (message.status, message.retry_count, message.needs_attention) == (OutboxStatus.FAILED, 4, True)
    assert list(message.attempts.values_list("attempt_no", "outcome")) == [
        (1, AttemptOutcome.RETRYABLE), (2, AttemptOutcome.RETRYABLE), (3, AttemptOutcome.RETRYABLE),
        (4, AttemptOutcome.RETRYABLE)]
    # and the alert was raised: ERROR log and the on_dead_letter hook
    assert withdraw.hook_calls("on_dead_letter") == [message.key]
    assert "ALERT outbox dead letter" in caplog.text and message.key in caplog.text
    # and the dead letter keeps every field (payload, key, error) for the operator
    assert (message.payload, message.error_message) == ({"index": 0}, "HTTP 503")


def test_replayed_dead_letter_is_delivered_again(db, withdraw, fast_retries):
    # given a dead letter whose cause has been fixed
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    relay.drain(queue="core", worker_id="w1", max_batches=None)
    withdraw.outcomes = [Delivery.success(http_status=200)]
    # when an operator replays it and the relay runs
    outbox_replay(message_id=message.id, actor="admin:1")
    relay.drain(queue="core", worker_id="w1")
    # then it is completed after one more attempt, and the log tells the whole story
    message.refresh_from_db()
    assert (message.status, message.retry_count) == (OutboxStatus.COMPLETED, 1)
    assert list(message.attempts.values_list("outcome", flat=True)) == [
        AttemptOutcome.RETRYABLE] * 4 + [AttemptOutcome.REPLAYED, AttemptOutcome.SUCCESS]
