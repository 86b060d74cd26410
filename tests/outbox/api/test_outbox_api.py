"""Staff API: GET /v1/admin/outbox (paged, filters) and POST /v1/admin/outbox/{id}/replay (R19)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from outbox.models import AttemptOutcome, OutboxMessage, OutboxStatus
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages


@pytest.fixture
def staff_client(db, django_user_model) -> tuple[APIClient, object]:
    staff = django_user_model.objects.create_user(username="staff1", password="irrelevant-pass-1", is_staff=True)
    client = APIClient()
    client.force_login(staff)
    return client, staff


@pytest.fixture
def messages(db, register_outbox_handler) -> list[OutboxMessage]:
    register_outbox_handler("test_withdraw", ScriptedHandler(queue="core"))
    rows = enqueue_messages(kind="test_withdraw", count=3)
    OutboxMessage.objects.filter(pk__in=[rows[0].pk, rows[2].pk]).update(status=OutboxStatus.FAILED,
                                                                        error_message="HTTP 503")
    return rows


def test_list_of_dead_letters_is_paged_newest_first(staff_client, messages):
    # given two dead letters and one pending row
    client, _ = staff_client
    # when staff lists failed rows one per page
    response = client.get("/v1/admin/outbox", {"status": "failed", "limit": 1})
    # then the newest dead letter comes first and the total is 2
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["key"] for item in body["results"]] == [messages[2].key]
    assert body["results"][0]["status"] == "failed" and body["results"][0]["errorMessage"] == "HTTP 503"
    assert body["next"] is not None


def test_list_rejects_an_unknown_status(staff_client, messages):
    # given staff
    client, _ = staff_client
    # when filtering by a status that does not exist
    response = client.get("/v1/admin/outbox", {"status": "exploded"})
    # then 400 in the router error shape
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"


def test_replay_moves_a_dead_letter_to_pending_and_records_the_staff_user(staff_client, messages, outbox_nudges):
    # given a dead letter
    client, staff = staff_client
    # when staff replays it
    response = client.post(f"/v1/admin/outbox/{messages[0].id}/replay")
    # then it is pending with a fresh budget, and the operator is in the attempt log
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["retryCount"]) == ("pending", 0)
    assert messages[0].attempts.get().outcome == AttemptOutcome.REPLAYED
    assert messages[0].attempts.get().actor == f"admin:{staff.pk}"


def test_replay_of_a_row_that_is_not_dead_is_a_conflict(staff_client, messages):
    # given a pending row
    client, _ = staff_client
    # when staff replays it
    response = client.post(f"/v1/admin/outbox/{messages[1].id}/replay")
    # then 409 with the current status, nothing changed
    assert response.status_code == 409
    assert response.json() == {"error": f"Outbox message {messages[1].id} is pending, not failed.",
                               "currentStatus": "pending"}


@pytest.mark.parametrize("message_id", [987654, 2**70])
def test_replay_of_an_unknown_row_is_not_found(staff_client, message_id):
    # given staff
    client, _ = staff_client
    # when replaying an id that does not exist (or does not fit a bigint)
    response = client.post(f"/v1/admin/outbox/{message_id}/replay")
    # then 404
    assert response.status_code == 404


def test_customers_and_anonymous_callers_are_refused(db, django_user_model, messages):
    # given a logged-in customer and an anonymous client
    customer = django_user_model.objects.create_user(username="user9", password="irrelevant-pass-1")
    customer_client, anonymous = APIClient(), APIClient()
    customer_client.force_login(customer)
    # when they call the staff endpoints
    responses = [customer_client.get("/v1/admin/outbox"), anonymous.get("/v1/admin/outbox"),
                 customer_client.post(f"/v1/admin/outbox/{messages[0].id}/replay"),
                 anonymous.post(f"/v1/admin/outbox/{messages[0].id}/replay")]
    # then all are refused and nothing was replayed
    assert [response.status_code for response in responses] == [403, 401, 403, 401]
    assert OutboxMessage.objects.get(pk=messages[0].pk).status == OutboxStatus.FAILED
