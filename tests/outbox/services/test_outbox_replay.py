"""outbox_replay: a dead letter goes back to pending with a fresh budget; the operator is recorded."""
from __future__ import annotations

import pytest

from config.errors import NotFoundError
from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from outbox.services import NotDeadLetteredError, outbox_replay
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages


@pytest.fixture
def dead_letter(db, register_outbox_handler) -> OutboxMessage:
    register_outbox_handler("test_withdraw", ScriptedHandler(queue="core", max_attempts=3))
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, retry_count=3,
                                                       needs_attention=True, error_message="HTTP 503")
    return message


def test_replay_moves_a_dead_letter_back_to_pending_and_records_the_operator(dead_letter, outbox_nudges,
                                                                            django_capture_on_commit_callbacks):
    # given a dead-lettered row after 3 attempts
    # when an operator replays it
    with django_capture_on_commit_callbacks(execute=True):
        replayed = outbox_replay(message_id=dead_letter.id, actor="admin:7")
    # then it is pending again with a fresh attempt budget and no alert flag
    assert replayed.status == OutboxStatus.PENDING
    assert (replayed.retry_count, replayed.needs_attention) == (0, False)
    # and the attempt log names the operator
    [attempt] = replayed.attempts.all()
    assert (attempt.outcome, attempt.actor, attempt.attempt_no, attempt.error) == (
        AttemptOutcome.REPLAYED, "admin:7", 3, "HTTP 503")
    assert attempt.finished_at is not None
    # and the relay was woken for its queue
    assert outbox_nudges == [{"queue": "core", "message_id": dead_letter.id}]


@pytest.mark.parametrize("status", [OutboxStatus.PENDING, OutboxStatus.PROCESSING, OutboxStatus.COMPLETED])
def test_replay_of_a_row_that_is_not_dead_lettered_is_a_conflict(dead_letter, status):
    # given a row that is not failed
    OutboxMessage.objects.filter(pk=dead_letter.pk).update(status=status)
    # when it is replayed
    with pytest.raises(NotDeadLetteredError) as error:
        outbox_replay(message_id=dead_letter.id, actor="admin:7")
    # then it is a 409 naming the current status, and nothing changed
    assert error.value.http_status == 409
    assert error.value.extra == {"currentStatus": status}
    assert not dead_letter.attempts.exists()


def test_replay_of_an_unknown_row_is_not_found(db):
    # given no such row
    # when it is replayed
    # then 404
    with pytest.raises(NotFoundError):
        outbox_replay(message_id=123456, actor="admin:7")
