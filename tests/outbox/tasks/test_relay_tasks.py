"""Celery tasks: drain (re-enqueues on a full batch), sweep (covers lost wake-ups, reclaims leases), nudge."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.db.models.functions import Now

from config.celery import app
from outbox import tasks
from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from outbox.services import outbox_enqueue
from tests.fixtures.outbox import EffectHandler, ScriptedHandler, effect_counts, enqueue_messages


@pytest.fixture
def eager_celery():
    """Run published tasks inline, as a worker would (only for this test)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def effect_kinds(register_outbox_handler, effect_store):
    register_outbox_handler("test_effect", EffectHandler(queue="core"))
    register_outbox_handler("test_mail_effect", EffectHandler(queue="notify"))


def test_lost_on_commit_nudge_is_covered_by_the_sweep(transactional_db, effect_kinds, eager_celery, monkeypatch):
    # given a committed message whose on-commit wake-up was lost (broker hiccup)
    lost = []
    monkeypatch.setattr(tasks, "relay_nudge", lambda **kwargs: lost.append(kwargs))
    with transaction.atomic(durable=True):
        message = outbox_enqueue(key="test_effect-1", kind="test_effect", aggregate_id="agg-1")
    monkeypatch.undo()
    assert lost == [{"queue": "core", "message_id": message.id}]
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.PENDING
    # when the beat sweep runs
    woken = tasks.relay_sweep()
    # then it woke a drain of the core queue, which delivered the message
    assert woken == ["core"]
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.COMPLETED
    assert effect_counts() == {"test_effect-1": 1}


def test_sweep_reclaims_expired_leases_and_redelivers(transactional_db, effect_kinds, monkeypatch):
    # given a row left in flight by a dead worker, lease expired
    monkeypatch.setattr(tasks, "relay_nudge", lambda **kwargs: None)
    [message] = enqueue_messages(kind="test_effect", count=1)
    monkeypatch.undo()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PROCESSING, retry_count=1,
                                                       locked_by="dead:1", locked_until=Now() - dt.timedelta(seconds=1))
    # when the beat sweep runs (tasks executed inline, as a worker would)
    app.conf.task_always_eager = True
    try:
        tasks.relay_sweep()
    finally:
        app.conf.task_always_eager = False
    # then the row was taken back and delivered
    message.refresh_from_db()
    assert message.status == OutboxStatus.COMPLETED
    assert list(message.attempts.values_list("outcome", flat=True)) == [AttemptOutcome.LEASE_EXPIRED,
                                                                        AttemptOutcome.SUCCESS]


def test_sweep_wakes_only_queues_with_due_rows(db, effect_kinds, monkeypatch):
    # given a due mail row and a core row that is not due yet
    enqueue_messages(kind="test_mail_effect", count=1)
    enqueue_messages(kind="test_effect", count=1, delay_seconds=60)
    woken = []
    monkeypatch.setattr(tasks, "relay_nudge", lambda **kwargs: woken.append(kwargs["queue"]))
    # when the sweep runs
    tasks.relay_sweep()
    # then only the notify queue was woken
    assert woken == ["notify"]


def test_drain_task_drains_until_idle_and_re_enqueues_itself_when_it_stopped_at_its_batch_limit(
        db, effect_kinds, monkeypatch, settings):
    # given seven due rows, a batch size of two and at most three batches per drain task
    settings.OUTBOX_BATCH_SIZE = 2
    settings.OUTBOX_DRAIN_MAX_BATCHES = 3
    enqueue_messages(kind="test_effect", count=7)
    woken = []
    monkeypatch.setattr(tasks, "relay_nudge", lambda **kwargs: woken.append(kwargs["queue"]))
    # when the drain task runs twice (as the re-enqueued task would)
    claimed = [tasks.relay_drain("core") for _ in range(2)]
    # then the first stopped at its limit with rows left and asked for another drain; the second drained the rest
    # (a partial batch, then an empty claim) and did not
    assert claimed == [6, 1]
    assert woken == ["core"]
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.COMPLETED).exists()


def test_nudge_publishes_the_drain_to_the_celery_queue_of_the_outbox_queue(monkeypatch):
    # given a publisher that records what it is asked to send
    published = []
    monkeypatch.setattr(tasks.relay_drain, "apply_async", lambda **kwargs: published.append(kwargs))
    # when the relay is nudged for the notify queue
    tasks.relay_nudge(queue="notify", message_id=7)
    # then the drain goes to the notify Celery queue, expires, and does not retry publishing
    [call] = published
    assert call["args"] == ("notify",) and call["kwargs"] == {"message_id": 7}
    assert call["queue"] == "notify" and call["retry"] is False and call["expires"] > 0


def test_nudge_never_raises_when_the_broker_is_down(monkeypatch, caplog):
    # given a broker that refuses connections
    def refuse(**kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.relay_drain, "apply_async", refuse)
    # when the relay is nudged after a commit
    tasks.relay_nudge(queue="core", message_id=1)
    # then the caller is unaffected and the loss is logged (the sweep delivers the message anyway)
    assert "nudge lost" in caplog.text


def test_a_row_enqueued_by_a_settle_of_the_draining_queue_is_drained_by_the_same_task_without_a_wake_up(
        db, register_outbox_handler, monkeypatch):
    # given a first step whose success enqueues the next step on the same queue (as a withdrawal enqueues the
    # deposit), and the next step itself
    def enqueue_next(message, delivery):
        outbox_enqueue(key=f"{message.key}-next", kind="test_next_step", aggregate_id=message.aggregate_id)

    first = register_outbox_handler("test_first_step", ScriptedHandler(on_success_action=enqueue_next))
    second = register_outbox_handler("test_next_step", ScriptedHandler())
    with transaction.atomic():
        outbox_enqueue(key="step-1", kind="test_first_step", aggregate_id="agg-1")
    woken = []
    monkeypatch.setattr(tasks, "relay_nudge", lambda **kwargs: woken.append(kwargs["queue"]))
    # when one drain task runs
    claimed = tasks.relay_drain("core")
    # then it delivered both steps, and the next step's row asked for no wake-up of its own
    assert claimed == 2
    assert [call[0] for call in first.calls if call[0] == "deliver"] == ["deliver"]
    assert [call[0] for call in second.calls if call[0] == "deliver"] == ["deliver"]
    assert woken == []
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.COMPLETED}
