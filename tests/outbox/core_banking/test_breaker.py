"""R18: the circuit breaker around core — opens after consecutive unanswered `core` deliveries, defers rows
without consuming attempts, probes /core/health, and pulls waiting rows forward on recovery."""
from __future__ import annotations

import pytest

from outbox import relay
from outbox.core_banking import breaker
from outbox.core_banking.breaker import CircuitBreaker
from outbox.models import OutboxMessage, OutboxStatus
from outbox.registry import Delivery
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages

NO_ANSWER = Delivery.retry(error="timeout (ReadTimeout)", ambiguous=True)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _breaker(*, healthy: list[bool], recovered: list[str], clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failures_to_open=3, open_seconds=5.0, probe=lambda: healthy.pop(0),
                          on_recovery=lambda: recovered.append("pulled"), clock=clock)


def test_opens_after_consecutive_unanswered_deliveries_and_an_answer_resets_the_count():
    clock, recovered = Clock(), []
    cb = _breaker(healthy=[], recovered=recovered, clock=clock)
    # given two unanswered deliveries, then a 500 (core answered) and two more unanswered ones
    for delivery in (NO_ANSWER, NO_ANSWER, Delivery.retry(error="HTTP 500", http_status=500), NO_ANSWER, NO_ANSWER):
        cb.record(delivery)
    # then it is still closed: only consecutive failures count
    assert (cb.is_open, cb.wait_seconds()) == (False, 0.0)
    # when a 503 makes it three in a row
    cb.record(Delivery.retry(error="HTTP 503", http_status=503))
    # then it is open for the full period, and the remaining time shrinks with the clock
    assert cb.wait_seconds() == 5.0
    clock.now += 2
    assert cb.wait_seconds() == pytest.approx(3.0)


def test_after_the_open_period_a_failed_probe_reopens_and_a_healthy_one_closes_and_pulls_rows_forward():
    clock, recovered, healthy = Clock(), [], [False, True]
    cb = _breaker(healthy=healthy, recovered=recovered, clock=clock)
    for _ in range(3):
        cb.record(NO_ANSWER)
    # when the period is over and core is still down
    clock.now += 5
    # then the probe fails and the breaker stays open for another period, nothing pulled
    assert cb.wait_seconds() == 5.0 and recovered == []
    # when the next period is over and core answers the probe
    clock.now += 5
    # then it closes, deliveries may go ahead and waiting rows are pulled forward once
    assert (cb.wait_seconds(), cb.is_open, cb.consecutive_failures, recovered) == (0.0, False, 0, ["pulled"])


@pytest.fixture
def core_down_handler(register_outbox_handler, settings):
    settings.OUTBOX_BREAKER_FAILURES = 3
    settings.OUTBOX_BREAKER_OPEN_SECONDS = 30
    breaker.core_breaker_reset()
    handler = register_outbox_handler("test_core_leg", ScriptedHandler(outcomes=[NO_ANSWER], max_attempts=10))
    yield handler
    breaker.core_breaker_reset()


def test_relay_defers_core_rows_without_consuming_attempts_while_open(db, core_down_handler, fast_retries):
    # given five due core rows and core not answering
    messages = enqueue_messages(kind="test_core_leg", count=5)
    # when the relay drains one batch
    result = relay.drain(queue="core", worker_id="w1", batch_size=10)
    # then three rows were attempted (and failed), which opened the breaker; the other two were not attempted
    assert (result.retried, result.deferred) == (3, 2)
    assert core_down_handler.hook_calls("deliver") == [message.key for message in messages[:3]]
    rows = {row.key: row for row in OutboxMessage.objects.all()}
    deferred = [rows[message.key] for message in messages[3:]]
    # and the deferred rows are pending, consumed no attempt, have no attempt row, and wait for the open period
    assert [(row.status, row.retry_count, row.attempts.count()) for row in deferred] == \
        [(OutboxStatus.PENDING, 0, 0)] * 2
    assert not OutboxMessage.objects.filter(pk__in=[row.pk for row in deferred],
                                            next_attempt_at__lte=_db_now()).exists()


def test_a_healthy_probe_after_the_open_period_pulls_waiting_rows_forward(db, core_down_handler, fast_retries,
                                                                          monkeypatch):
    # given an open breaker with deferred rows waiting
    enqueue_messages(kind="test_core_leg", count=5)
    relay.drain(queue="core", worker_id="w1", batch_size=10)
    cb = breaker.core_breaker()
    assert cb.is_open
    waiting = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__gt=_db_now()).count()
    assert waiting == 2
    # when the open period has passed and core answers its health probe
    cb.open_until = cb.clock() - 0.1
    monkeypatch.setattr(breaker, "_core_healthy", lambda: True)
    cb.probe = breaker._core_healthy
    core_down_handler.outcomes[:] = [Delivery.success(http_status=200)]
    first = relay.drain(queue="core", worker_id="w2", batch_size=10)
    # then the breaker closed, the due rows were delivered, and the deferred ones were made due at once
    # (not after their 30 s): the very next drain delivers them
    assert not cb.is_open and first.succeeded == 3
    assert not OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__gt=_db_now()).exists()
    second = relay.drain(queue="core", worker_id="w3", batch_size=10)
    assert second.succeeded == 2
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.COMPLETED).exists()


def test_notify_rows_are_never_held_by_the_core_breaker(db, register_outbox_handler, core_down_handler, fast_retries):
    # given an open core breaker
    enqueue_messages(kind="test_core_leg", count=3)
    relay.drain(queue="core", worker_id="w1", batch_size=10)
    assert breaker.core_breaker().is_open
    # when mail rows are drained
    mail = register_outbox_handler("test_mail_leg", ScriptedHandler(queue="notify"))
    enqueue_messages(kind="test_mail_leg", count=2)
    result = relay.drain(queue="notify", worker_id="w2", batch_size=10)
    # then they are delivered: the bulkhead keeps mail independent of core
    assert (result.succeeded, len(mail.hook_calls("deliver"))) == (2, 2)


def _db_now():
    from outbox.sql import db_now

    return db_now()
