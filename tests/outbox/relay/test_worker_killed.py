"""A relay process killed with SIGKILL mid-batch: its messages are delivered after lease expiry, no double effect."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from outbox import relay
from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from outbox.services import outbox_reclaim_expired
from tests.fixtures.outbox import EffectHandler, delivery_counts, effect_counts, enqueue_messages

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
LEASE_SECONDS = 2.5


def _database_url() -> str:
    """The URL of the test database this process uses, for the child process."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user, host, port = settings_dict["USER"], settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_messages_of_a_killed_worker_are_delivered_after_lease_expiry_without_double_effect(
        transactional_db, register_outbox_handler, effect_store, outbox_nudges):
    # given 10 due messages and a real relay process whose handler sleeps after applying each effect
    register_outbox_handler("test_crash", EffectHandler())
    messages = enqueue_messages(kind="test_crash", count=10)
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    worker = subprocess.Popen([sys.executable, "-m", "tests.outbox.relay.relay_process", "test_crash", "core",
                               str(LEASE_SECONDS), "0.4"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "ready"
        # when it is killed with SIGKILL in the middle of its batch (after some effects, before their settle)
        assert _wait_for(lambda: sum(delivery_counts().values()) >= 3, timeout=20), worker.stderr.read()
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert worker.returncode == -signal.SIGKILL
    delivered_before_crash = set(delivery_counts())
    in_flight = set(OutboxMessage.objects.filter(status=OutboxStatus.PROCESSING).values_list("key", flat=True))
    assert in_flight, "the crash left claimed rows behind"

    # then nothing is taken back before the lease expires
    assert outbox_reclaim_expired().requeued == []
    # and after the lease expired the sweep requeues them and a surviving relay delivers everything
    time.sleep(LEASE_SECONDS + 0.2)
    reclaimed = outbox_reclaim_expired()
    assert set(OutboxMessage.objects.filter(id__in=reclaimed.requeued).values_list("key", flat=True)) == in_flight
    relay.drain(queue="core", max_batches=None)

    keys = {message.key for message in messages}
    assert set(OutboxMessage.objects.filter(status=OutboxStatus.COMPLETED).values_list("key", flat=True)) == keys
    # every effect applied exactly once, although the message the worker died on was delivered twice
    assert effect_counts() == {key: 1 for key in keys}
    deliveries = delivery_counts()
    redelivered = {key for key, count in deliveries.items() if count > 1}
    assert redelivered and redelivered <= delivered_before_crash & in_flight
    # and the attempt log shows the lost lease, then the success
    crashed = OutboxMessage.objects.get(key=sorted(redelivered)[0])
    assert list(crashed.attempts.values_list("outcome", flat=True)) == [AttemptOutcome.LEASE_EXPIRED,
                                                                        AttemptOutcome.SUCCESS]
