"""Stuck-item and invariant registries: the outbox's own checks, GET /v1/admin/stuck, manage.py check_invariants."""
import pytest
from django.core.management import call_command

from outbox import invariants as checks
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage, OutboxStatus, SentMail

pytestmark = pytest.mark.django_db


def _dead_letter(kind: str, key: str) -> OutboxMessage:
    """A row the relay dead-lettered (set up directly: the state is what matters here)."""
    return OutboxMessage.objects.create(key=key, kind=kind, queue="core", aggregate_id=f"agg-{key}", max_attempts=10,
                                        status=OutboxStatus.FAILED, retry_count=10, error_message="HTTP 503")


def test_dead_letters_are_stuck_items_and_a_dead_refund_is_critical():
    # given a dead withdraw and a dead refund
    _dead_letter("withdraw", "withdraw-tx1")
    _dead_letter("refund", "refund-tx2")
    # when
    items = checks.stuck_items_list()
    # then
    assert [(item.check, item.severity, item.detail["key"]) for item in items] == [
        ("outbox.dead_letter", "critical", "refund-tx2"), ("outbox.dead_letter", "warning", "withdraw-tx1")]


def test_stuck_route_is_staff_only(api_client, api_client_for, customer_user, staff_user, client):
    assert api_client.get("/v1/admin/stuck").status_code == 401
    assert api_client_for(customer_user).get("/v1/admin/stuck").status_code == 403
    client.force_login(staff_user)
    response = client.get("/v1/admin/stuck")
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0}


def test_i4_reports_a_version_gap():
    # given an aggregate whose events skip version 2 (written around the service, as a corrupt import would)
    Event.objects.bulk_create([
        Event(position=10**15 + 1, aggregate_type="transfer", aggregate_id="transfer-gap", version=1, type="X"),
        Event(position=10**15 + 2, aggregate_type="transfer", aggregate_id="transfer-gap", version=3, type="Y"),
    ])
    # then
    (result,) = checks.invariants_check(codes={"I4"})
    assert not result.ok
    assert result.violations[0].startswith("transfer-gap: versions 1..3 in 2 events")


def test_i6_reports_two_mails_of_one_kind_for_one_aggregate():
    SentMail.objects.create(key="notify_receipt-APP-1", kind="notify_receipt", aggregate_id="APP-1",
                            message_id="<a>", recipient="a@example.com", subject="s")
    assert checks.invariants_check(codes={"I6"})[0].ok
    SentMail.objects.create(key="notify_receipt-APP-1-again", kind="notify_receipt", aggregate_id="APP-1",
                            message_id="<b>", recipient="a@example.com", subject="s")
    assert checks.invariants_check(codes={"I6"})[0].violations == ["notify_receipt APP-1: 2 mails"]


def test_check_invariants_command_exits_non_zero_on_violation(capsys):
    # given a clean database
    call_command("check_invariants", "--only", "I4,I6")
    assert "2/2 invariants hold" in capsys.readouterr().out
    # when a violation exists
    Event.objects.create(position=10**15 + 50, aggregate_type="transfer", aggregate_id="transfer-x", version=2,
                         type="X")
    # then
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_invariants", "--only", "I4")
    assert exit_info.value.code == 1
    assert "FAIL I4" in capsys.readouterr().out


@pytest.mark.postgres
def test_i4_confirms_the_append_only_trigger_on_postgresql():
    assert checks.events_refuse_update_and_delete() == []
