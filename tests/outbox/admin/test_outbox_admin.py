"""Django admin: events read-only; outbox list with filters and status summary; audited replay action."""
from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from outbox.eventstore.models import Event
from outbox.models import AttemptOutcome, OutboxAttempt, OutboxMessage, OutboxStatus
from tests.fixtures.outbox import ScriptedHandler, counter_change, enqueue_messages, increment


@pytest.fixture
def dead_letter(db, register_outbox_handler) -> OutboxMessage:
    register_outbox_handler("test_withdraw", ScriptedHandler(queue="core"))
    [message] = enqueue_messages(kind="test_withdraw", count=1)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, retry_count=3, needs_attention=True,
                                                       error_message="HTTP 503")
    OutboxAttempt.objects.create(message=message, attempt_no=3, outcome=AttemptOutcome.RETRYABLE, http_status=503,
                                 error="HTTP 503", worker="w1")
    return message


def test_events_are_read_only_in_admin(admin_client, counter_aggregate):
    # given a stored event
    [event] = counter_change(aggregate_id="counter-1", expected_version=0, events=[increment()])
    # when a superuser opens the list, the detail, the add and the delete pages
    listing = admin_client.get(reverse("admin:outbox_event_changelist"))
    detail = admin_client.get(reverse("admin:outbox_event_change", args=[event.pk]))
    add = admin_client.get(reverse("admin:outbox_event_add"))
    delete = admin_client.get(reverse("admin:outbox_event_delete", args=[event.pk]))
    change = admin_client.post(reverse("admin:outbox_event_change", args=[event.pk]), {"type": "CounterReset"})
    # then events can be viewed but never added, changed or deleted
    assert listing.status_code == 200 and b"counter-1" in listing.content
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert add.status_code == 403 and delete.status_code == 403 and change.status_code == 403
    assert Event.objects.get(pk=event.pk).type == "CounterIncremented"


@pytest.mark.parametrize("query", ["", "?status__exact=failed", "?kind=test_withdraw", "?queue=core",
                                   "?needs_attention__exact=1", "?age=lt1m", "?age=1m-10m", "?age=10m-1h",
                                   "?age=gt1h"])
def test_outbox_list_filters_render(admin_client, dead_letter, query):
    # given a dead letter
    # when the outbox list is opened with a filter
    response = admin_client.get(reverse("admin:outbox_outboxmessage_changelist") + query)
    # then it renders with the status summary
    assert response.status_code == 200
    assert b"outbox-status" in response.content


def test_outbox_list_shows_the_dead_letter_with_its_summary(admin_client, dead_letter):
    # given a dead letter
    # when the dead-letter filter is applied
    response = admin_client.get(reverse("admin:outbox_outboxmessage_changelist") + "?status__exact=failed")
    # then the row and the summary count are shown
    assert dead_letter.key.encode() in response.content
    assert "デッドレター 1" in response.content.decode()


def test_outbox_detail_shows_the_attempt_log(admin_client, dead_letter):
    # given a dead letter with an attempt
    # when its detail page is opened
    response = admin_client.get(reverse("admin:outbox_outboxmessage_change", args=[dead_letter.pk]))
    # then the attempt log is shown read-only
    assert response.status_code == 200
    assert b"HTTP 503" in response.content and b"retryable" in response.content


def test_replay_action_replays_dead_letters_and_audits_who_did_it(admin_client, admin_user, dead_letter,
                                                                  outbox_nudges):
    # given a dead letter and a completed row
    [completed] = enqueue_messages(kind="test_withdraw", count=1, key_prefix="done")
    OutboxMessage.objects.filter(pk=completed.pk).update(status=OutboxStatus.COMPLETED)
    # when the operator runs the replay action on both
    response = admin_client.post(reverse("admin:outbox_outboxmessage_changelist"),
                                 {"action": "replay_dead_letters", "_selected_action": [dead_letter.pk, completed.pk]})
    # then only the dead letter is pending again
    assert response.status_code == 302
    dead_letter.refresh_from_db()
    assert (dead_letter.status, dead_letter.retry_count) == (OutboxStatus.PENDING, 0)
    assert OutboxMessage.objects.get(pk=completed.pk).status == OutboxStatus.COMPLETED
    # and who did it is recorded in the attempt log and in Django's admin log
    replay = dead_letter.attempts.get(outcome=AttemptOutcome.REPLAYED)
    assert replay.actor == f"admin:{admin_user.pk}"
    entry = LogEntry.objects.get(object_id=str(dead_letter.pk))
    assert (entry.user_id, entry.action_flag) == (admin_user.pk, CHANGE)
    assert "Replayed dead letter" in entry.get_change_message()


def test_outbox_rows_cannot_be_added_or_deleted_in_admin(admin_client, dead_letter):
    # given a row
    # when the add and delete pages are requested
    add = admin_client.get(reverse("admin:outbox_outboxmessage_add"))
    delete = admin_client.get(reverse("admin:outbox_outboxmessage_delete", args=[dead_letter.pk]))
    # then both are refused
    assert add.status_code == 403 and delete.status_code == 403
