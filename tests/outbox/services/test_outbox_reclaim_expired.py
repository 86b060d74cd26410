"""outbox_reclaim_expired: rows of a dead worker come back after their lease (R16), or dead-letter (R36)."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db.models.functions import Now

from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from outbox.services import outbox_reclaim_expired
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages


def _in_flight(message: OutboxMessage, *, retry_count: int = 1, lease_left: dt.timedelta) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PROCESSING, retry_count=retry_count,
                                                       locked_by="host:1:dead", locked_until=Now() + lease_left)


@pytest.fixture
def handlers(db, register_outbox_handler):
    mail = register_outbox_handler("test_mail", ScriptedHandler(queue="notify", max_attempts=5,
                                                                retry_after_lease_expiry=False))
    core = register_outbox_handler("test_withdraw", ScriptedHandler(queue="core", max_attempts=3))
    return {"mail": mail, "core": core}


def test_expired_lease_is_requeued_with_a_lease_expired_attempt(handlers):
    # given a core row whose worker died (lease passed) and one whose lease is still running
    expired, running = enqueue_messages(kind="test_withdraw", count=2)
    _in_flight(expired, lease_left=-dt.timedelta(seconds=1))
    _in_flight(running, lease_left=dt.timedelta(seconds=60))
    # when the sweep reclaims expired leases
    result = outbox_reclaim_expired()
    # then only the expired row is pending again, due now, with its attempt count kept
    assert result.requeued == [expired.id] and result.dead_lettered == []
    expired.refresh_from_db()
    assert (expired.status, expired.retry_count, expired.locked_by) == (OutboxStatus.PENDING, 1, None)
    [attempt] = expired.attempts.all()
    assert (attempt.outcome, attempt.worker, attempt.attempt_no) == (AttemptOutcome.LEASE_EXPIRED, "host:1:dead", 1)
    assert OutboxMessage.objects.get(pk=running.pk).status == OutboxStatus.PROCESSING


def test_expired_lease_of_a_mail_is_dead_lettered_as_delivery_unknown(handlers, caplog):
    # given a mail row (its handler forbids redelivery after an unknown outcome) whose worker died
    [mail] = enqueue_messages(kind="test_mail", count=1)
    _in_flight(mail, lease_left=-dt.timedelta(seconds=1))
    # when the sweep reclaims it
    with caplog.at_level(logging.ERROR, logger="bank.outbox"):
        result = outbox_reclaim_expired()
    # then it is a dead letter flagged for attention, with an alert and the on_dead_letter hook
    assert result.dead_lettered == [mail.id]
    mail.refresh_from_db()
    assert (mail.status, mail.needs_attention, mail.error_message) == (
        OutboxStatus.FAILED, True, "lease expired: delivery unknown")
    assert handlers["mail"].hook_calls("on_dead_letter") == [mail.key]
    assert "ALERT outbox dead letter" in caplog.text


def test_expired_lease_with_no_attempts_left_is_dead_lettered(handlers):
    # given a core row that crashed its worker on its last allowed attempt
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    _in_flight(message, retry_count=3, lease_left=-dt.timedelta(seconds=1))
    # when the sweep reclaims it
    outbox_reclaim_expired()
    # then it is dead-lettered instead of looping forever
    message.refresh_from_db()
    assert (message.status, message.needs_attention) == (OutboxStatus.FAILED, True)
