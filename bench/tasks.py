"""The peer's unit of work: a no-op Celery task that counts its executions in Redis (one INCR)."""
from __future__ import annotations

import os

import redis
from celery import shared_task
from django.conf import settings

PEER_TASK_NAME = "bench.peer_noop"

_redis: tuple[int, redis.Redis] | None = None


def _redis_client() -> redis.Redis:
    """One client per process (created again after a fork)."""
    global _redis
    if _redis is None or _redis[0] != os.getpid():
        _redis = (os.getpid(), redis.Redis.from_url(settings.CELERY_BROKER_URL))
    return _redis[1]


@shared_task(name=PEER_TASK_NAME, ignore_result=True)
def peer_noop(counter_key: str) -> None:
    """Count one execution (the benchmark polls the counter to see when every relayed task has run)."""
    _redis_client().incr(counter_key)
