"""Status, list, credentials and event-history routes (api.md §2.2, §3.1, §3.2; flows.md R10)."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from accounts.models import Application
from outbox.eventstore.models import Event


@pytest.mark.django_db
def test_status_returns_only_ids_and_status_when_public(api_client, api_keys, pending_application):
    # when
    response = api_client.get(f"/v1/api/accounts/{pending_application.application_id}",
                              HTTP_X_API_KEY=api_keys.customer)

    # then
    assert response.status_code == 200
    assert response.json() == {"id": pending_application.application_id,
                               "transactionId": pending_application.transaction_id, "status": "PENDING"}


@pytest.mark.django_db
def test_status_is_not_found_when_the_application_is_unknown(api_client, api_keys):
    # when
    response = api_client.get("/v1/api/accounts/APP-0123456789abcdef", HTTP_X_API_KEY=api_keys.customer)

    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Application not found"}


@pytest.mark.django_db
def test_transactions_route_is_not_captured_when_an_account_id_is_used(api_client, api_keys):
    # when
    response = api_client.get("/v1/api/accounts/0011234567/transactions", HTTP_X_API_KEY=api_keys.customer)

    # then: the balance app's route answers (401: no token), not ours
    assert response.status_code == 401


@pytest.mark.django_db
def test_list_keeps_the_original_shape_when_applications_exist(staff_client, reviewer, submit_application):
    # given
    older = submit_application(fullName="古川 一郎")
    newer = submit_application(fullName="新井 二郎")
    Application.objects.filter(pk=older.pk).update(created_at=newer.created_at - dt.timedelta(minutes=1))

    # when
    response = staff_client(reviewer).get("/v1/admin/account-applications")

    # then
    assert response.status_code == 200
    items = response.json()["applications"]
    assert [item["id"] for item in items] == [newer.application_id, older.application_id]
    assert set(items[0]) == {"id", "transactionId", "applicantName", "email", "phoneNumber", "idType", "idNumber",
                             "status", "submittedAt", "updatedAt", "accountType"}
    assert items[0]["applicantName"] == "新井 二郎"
    assert items[0]["submittedAt"].endswith("Z")


@pytest.mark.django_db
def test_list_is_empty_when_there_are_no_applications(staff_client, reviewer):
    # when
    response = staff_client(reviewer).get("/v1/admin/account-applications")

    # then
    assert response.json() == {"applications": []}


@pytest.mark.django_db
def test_list_is_unauthorized_when_only_the_api_key_is_sent(api_client, api_keys):
    # when
    response = api_client.get("/v1/admin/account-applications", HTTP_X_API_KEY=api_keys.admin)

    # then
    assert response.status_code == 401


@pytest.mark.django_db
def test_credentials_are_refused_when_not_completed(staff_client, reviewer, approved_application):
    # when
    response = staff_client(reviewer).get(
        f"/v1/admin/account-applications/{approved_application.application_id}/credentials")

    # then
    assert response.status_code == 400
    assert response.json() == {"error": "Application is not completed yet", "currentStatus": "CONFIRMED"}


@pytest.mark.django_db
def test_credentials_are_not_found_when_the_application_is_unknown(staff_client, reviewer):
    # when
    response = staff_client(reviewer).get("/v1/admin/account-applications/APP-ffffffffffffffff/credentials")

    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Application not found"}


@pytest.mark.django_db
def test_event_history_reads_back_in_version_order(staff_client, reviewer, approved_application):
    # when
    response = staff_client(reviewer).get(
        f"/v1/admin/account-applications/{approved_application.application_id}/events")

    # then
    assert response.status_code == 200
    body = response.json()
    assert [(e["version"], e["type"]) for e in body["events"]] == [
        (1, "AccountOpeningApplicationCreated"), (2, "AccountOpeningApplicationConfirmed")]
    assert body["version"] == 2
    assert body["state"]["status"] == "CONFIRMED"
    assert body["events"][1]["comment"] == "本人確認済み"


@pytest.mark.django_db
def test_event_history_time_travels_when_as_of_is_before_the_approval(staff_client, reviewer, pending_application):
    # given
    from accounts.services import application_approve

    time.sleep(0.01)
    application_approve(transaction_id=pending_application.transaction_id, actor="admin:test")
    created = Event.objects.get(aggregate_id=pending_application.application_id, version=1)

    # when
    response = staff_client(reviewer).get(
        f"/v1/admin/account-applications/{pending_application.application_id}/events",
        {"asOf": created.recorded_at.isoformat()})

    # then
    body = response.json()
    assert response.status_code == 200
    assert [e["version"] for e in body["events"]] == [1]
    assert body["state"]["status"] == "PENDING"
    assert body["status"] == "PENDING"


@pytest.mark.django_db
def test_event_history_is_refused_when_as_of_is_not_a_time(staff_client, reviewer, pending_application):
    # when
    response = staff_client(reviewer).get(
        f"/v1/admin/account-applications/{pending_application.application_id}/events", {"asOf": "yesterday"})

    # then
    assert response.status_code == 400
