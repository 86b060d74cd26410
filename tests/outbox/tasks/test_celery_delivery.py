"""Real Celery delivery over Redis: the on-commit wake-up reaches a worker, and a lost one is covered by the sweep."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction

from config.celery import app
from outbox import tasks
from outbox.models import OutboxMessage, OutboxStatus
from outbox.services import outbox_enqueue
from tests.fixtures.outbox import EffectHandler, effect_counts, process_stop
from tests.outbox.relay.test_worker_killed import _database_url

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def _status_becomes(message_id: int, status: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if OutboxMessage.objects.get(pk=message_id).status == status:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def celery_worker_process(transactional_db, register_outbox_handler, effect_store):
    """A real `celery worker` subprocess against the test database and the Redis broker."""
    register_outbox_handler("test_effect", EffectHandler(queue="core"))
    app.control.purge()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    worker = subprocess.Popen([sys.executable, "-m", "tests.outbox.tasks.celery_worker_process"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    yield worker
    process_stop(worker)


def test_wake_up_reaches_a_real_worker_and_a_lost_one_is_covered_by_the_sweep(celery_worker_process, monkeypatch):
    # given a running worker (no beat) and a committed message whose on-commit wake-up was lost
    monkeypatch.setattr(tasks, "relay_nudge", lambda **kwargs: None)
    with transaction.atomic(durable=True):
        lost = outbox_enqueue(key="test_effect-lost", kind="test_effect", aggregate_id="agg-lost")
    monkeypatch.undo()
    # then nothing delivers it while nobody wakes the relay
    assert not _status_becomes(lost.id, OutboxStatus.COMPLETED, timeout=1.5)
    # when the beat sweep runs once (publishing a drain over Redis)
    assert tasks.relay_sweep() == ["core"]
    # then the worker delivers it
    assert _status_becomes(lost.id, OutboxStatus.COMPLETED, timeout=30), celery_worker_process.stderr
    # when another message commits with its normal on-commit wake-up
    with transaction.atomic(durable=True):
        woken = outbox_enqueue(key="test_effect-woken", kind="test_effect", aggregate_id="agg-woken")
    # then the worker delivers it without any sweep
    assert _status_becomes(woken.id, OutboxStatus.COMPLETED, timeout=30)
    assert effect_counts() == {"test_effect-lost": 1, "test_effect-woken": 1}
