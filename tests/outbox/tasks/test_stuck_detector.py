"""Stuck detector (beat, every minute): warns on lag past the threshold, alerts on dead letters (§5.10)."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db.models.functions import Now

from outbox import tasks
from outbox.models import OutboxMessage, OutboxStatus
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages


@pytest.fixture
def withdraw(register_outbox_handler):
    return register_outbox_handler("test_withdraw", ScriptedHandler(queue="core"))


def test_warns_when_the_oldest_due_row_waits_longer_than_the_threshold(db, withdraw, settings, caplog):
    # given a 60 s threshold and a row that has been due for two minutes
    settings.OUTBOX_STUCK_THRESHOLD_SECONDS = 60
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=Now() - dt.timedelta(minutes=2))
    # when the detector runs
    with caplog.at_level(logging.WARNING, logger="bank.outbox"):
        lagging = tasks.stuck_detector()
    # then it reports the lag with a warning
    assert lagging is True
    assert "outbox lag" in caplog.text


def test_stays_quiet_when_rows_are_fresh(db, withdraw, caplog):
    # given a row that just became due
    enqueue_messages(kind="test_withdraw", count=1)
    # when the detector runs
    with caplog.at_level(logging.WARNING, logger="bank.outbox"):
        lagging = tasks.stuck_detector()
    # then nothing is reported
    assert lagging is False
    assert caplog.text == ""


def test_lists_dead_letters_in_an_alert(db, withdraw, caplog):
    # given a dead letter
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, needs_attention=True)
    # when the detector runs
    with caplog.at_level(logging.ERROR, logger="bank.outbox"):
        tasks.stuck_detector()
    # then an alert names it
    assert "dead letter" in caplog.text and str(message.id) in caplog.text
