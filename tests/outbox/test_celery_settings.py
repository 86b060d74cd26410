"""Celery configuration fits at-least-once delivery of idempotent work, with bulkhead queues and beat."""
from __future__ import annotations

from django.conf import settings

from config.celery import app, route_task


def test_tasks_are_acked_late_redelivered_on_worker_loss_and_reserved_one_at_a_time():
    # given the Celery app configured from Django settings
    conf = app.conf
    # then a task is acknowledged after it ran, requeued if its worker dies, and prefetch is 1
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1


def test_redis_visibility_timeout_exceeds_the_longest_task():
    # given the hard task time limit and the relay lease
    # then an unacked message is never redelivered while its task may still be running
    if settings.BROKER_IS_FILESYSTEM:
        return
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_TASK_TIME_LIMIT > settings.OUTBOX_LEASE_SECONDS


def test_retries_are_bounded():
    # given the publish policy and the relay tasks
    import outbox.tasks as tasks

    # then publishing and every relay task retry a bounded number of times
    assert app.conf.task_publish_retry_policy["max_retries"] <= 5
    for task in (tasks.relay_drain, tasks.relay_sweep, tasks.stuck_detector):
        assert task.max_retries is not None and task.max_retries <= 5


def test_drain_tasks_are_routed_to_the_queue_of_their_outbox_queue():
    # given the router
    # when drains of each outbox queue and a maintenance task are routed
    # then money legs and mail use separate Celery queues (bulkheads) and maintenance the default queue
    assert route_task("outbox.relay_drain", ("core",), {}, {}) == {"queue": "core"}
    assert route_task("outbox.relay_drain", ("notify",), {}, {}) == {"queue": "notify"}
    assert route_task("outbox.relay_sweep", (), {}, {}) is None
    assert {queue.name for queue in app.conf.task_queues} >= {"default", "core", "notify"}
    assert {queue.routing_key for queue in app.conf.task_queues} >= {"default", "core", "notify"}


def test_beat_sweeps_every_second_and_checks_for_stuck_rows_every_minute():
    # given the beat schedule
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    # then the sweep runs every second and the stuck detector every minute
    assert schedule["outbox.relay_sweep"] == 1.0
    assert schedule["outbox.stuck_detector"] == 60.0
