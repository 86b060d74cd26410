"""Management commands: outbox_status, outbox_replay, rebuild_projections."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from tests.fixtures.outbox import (
    ScriptedHandler,
    counter_change,
    counter_rows,
    decrement,
    enqueue_messages,
    increment,
    reset,
)


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def rows(db, register_outbox_handler) -> list[OutboxMessage]:
    register_outbox_handler("test_withdraw", ScriptedHandler(queue="core"))
    messages = enqueue_messages(kind="test_withdraw", count=4)
    OutboxMessage.objects.filter(pk=messages[0].pk).update(status=OutboxStatus.FAILED, needs_attention=True)
    OutboxMessage.objects.filter(pk=messages[1].pk).update(status=OutboxStatus.FAILED)
    OutboxMessage.objects.filter(pk=messages[2].pk).update(status=OutboxStatus.PROCESSING, locked_by="w1")
    return messages


def test_outbox_status_prints_pending_in_flight_dead_and_throughput(rows):
    # given one pending, one in-flight and two dead rows
    # when the status command runs (text and JSON)
    text = _run("outbox_status")
    stats = json.loads(_run("outbox_status", "--json"))
    # then it reports each figure
    assert "pending:                1" in text and "dead (failed):          2" in text
    assert (stats["pending"], stats["in_flight"], stats["dead"], stats["needs_attention"]) == (1, 1, 2, 1)
    assert stats["completed_last_minute"] == 0 and stats["oldest_pending_age_seconds"] >= 0


def test_outbox_replay_by_id_and_by_key(rows, outbox_nudges):
    # given two dead letters
    # when one is replayed by id and the other by key
    _run("outbox_replay", str(rows[0].id), "--actor", "ops:alice")
    _run("outbox_replay", rows[1].key)
    # then both are pending and the operators are recorded
    for message, actor_prefix in ((rows[0], "ops:alice"), (rows[1], "cli:")):
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING
        assert message.attempts.get(outcome=AttemptOutcome.REPLAYED).actor.startswith(actor_prefix)


def test_outbox_replay_all_failed(rows, outbox_nudges):
    # given two dead letters
    # when every dead letter is replayed
    output = _run("outbox_replay", "--all-failed")
    # then none is left
    assert "2 message(s) replayed" in output
    assert not OutboxMessage.objects.filter(status=OutboxStatus.FAILED).exists()


def test_outbox_replay_refuses_a_row_that_is_not_dead_or_unknown(rows):
    # given a pending row and an unknown key
    # when they are replayed
    # then the command fails with the reason
    with pytest.raises(CommandError, match="not failed"):
        _run("outbox_replay", str(rows[3].id))
    with pytest.raises(CommandError, match="No outbox message"):
        _run("outbox_replay", "test_withdraw-404")
    with pytest.raises(CommandError, match="exactly one"):
        _run("outbox_replay")


def test_rebuild_projections_reproduces_the_incremental_rows(counter_aggregate):
    # given projection rows built incrementally by several aggregates' events
    counter_change(aggregate_id="counter-a", expected_version=0, events=[increment(5), decrement(2)])
    counter_change(aggregate_id="counter-b", expected_version=0, events=[increment(9)])
    counter_change(aggregate_id="counter-a", expected_version=2, events=[reset(), increment(4)])
    incremental = counter_rows()
    # when the rows are damaged and the projections are rebuilt from the events
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE outbox_test_counter_row SET value = -1")
    output = _run("rebuild_projections", "--name", "test_counter_rows")
    # then the rows equal the incremental ones exactly
    assert counter_rows() == incremental
    assert incremental == [("counter-a", 4, 4, incremental[0][3]), ("counter-b", 9, 1, incremental[1][3])]
    assert "test_counter_rows: 5 event(s) applied" in output


def test_rebuild_projections_rejects_an_unknown_name(counter_aggregate):
    # given the registered projections
    # when an unknown one is named
    # then the command fails
    with pytest.raises(CommandError, match="Unknown projection"):
        _run("rebuild_projections", "--name", "nope")
