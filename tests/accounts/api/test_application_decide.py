"""Approve / reject routes (api.md §3.4, §3.5): staff permission, state rules, who and comment recorded."""
from __future__ import annotations

import pytest

from accounts.models import Application
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage


def _approve(client, application, comment="ok"):
    return client.post(f"/v1/api/accounts/confirm/{application.transaction_id}", {"comment": comment}, format="json")


def _reject(client, application, comment="ng"):
    return client.post(f"/v1/api/accounts/confirm/{application.transaction_id}/reject", {"comment": comment},
                       format="json")


@pytest.mark.django_db
def test_application_is_confirmed_when_a_reviewer_approves(staff_client, reviewer, pending_application):
    # when
    response = _approve(staff_client(reviewer), pending_application, comment="書類確認済み")

    # then
    assert response.status_code == 200
    assert response.json() == {"id": pending_application.application_id,
                               "transactionId": pending_application.transaction_id, "status": "CONFIRMED"}
    event = Event.objects.get(aggregate_id=pending_application.application_id, version=2)
    assert (event.type, event.status) == ("AccountOpeningApplicationConfirmed", "pending")
    assert event.metadata["actor"] == f"admin:{reviewer.pk}"
    assert event.metadata["comment"] == "書類確認済み"
    assert event.metadata["processHistoryEntry"]["status"] == "confirmed"
    assert event.data["reviewedBy"] == "reviewer01"
    assert event.data["createdAt"] == pending_application.snapshot["createdAt"]
    row = OutboxMessage.objects.get(kind="create_account")
    assert row.key == f"create_account-{pending_application.application_id}"
    assert row.payload["customerInfo"]["fullName"] == "山田 太郎"


@pytest.mark.django_db
def test_second_approval_is_refused_when_already_confirmed(staff_client, reviewer, pending_application):
    # given
    client = staff_client(reviewer)
    _approve(client, pending_application)
    before = (Event.objects.count(), OutboxMessage.objects.count())

    # when
    response = _approve(client, pending_application)

    # then
    assert response.status_code == 400
    assert response.json() == {"error": "Application cannot be confirmed", "currentStatus": "CONFIRMED"}
    assert (Event.objects.count(), OutboxMessage.objects.count()) == before
    assert OutboxMessage.objects.filter(kind="create_account").count() == 1


@pytest.mark.django_db
def test_approval_is_refused_when_the_application_was_rejected(staff_client, reviewer, pending_application):
    # given
    client = staff_client(reviewer)
    _reject(client, pending_application)

    # when
    response = _approve(client, pending_application)

    # then
    assert response.status_code == 400
    assert response.json()["currentStatus"] == "REJECTED"


@pytest.mark.django_db
def test_rejection_is_recorded_with_a_rejection_mail_row_when_a_reviewer_rejects(staff_client, reviewer,
                                                                                  pending_application):
    # when
    response = _reject(staff_client(reviewer), pending_application, comment="本人確認不可")

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "REJECTED"
    event = Event.objects.get(aggregate_id=pending_application.application_id, version=2)
    assert (event.type, event.status, event.metadata["comment"]) == (
        "AccountOpeningApplicationRejected", "rejected", "本人確認不可")
    assert not OutboxMessage.objects.filter(kind="create_account").exists()
    assert OutboxMessage.objects.filter(kind="notify_rejection").count() == 1


@pytest.mark.django_db
def test_rejection_is_refused_when_the_application_is_completed(staff_client, reviewer, pending_application):
    # given
    Application.objects.filter(pk=pending_application.pk).update(status="COMPLETED")

    # when
    response = _reject(staff_client(reviewer), pending_application)

    # then
    assert response.status_code == 400
    assert response.json() == {"error": "Application cannot be rejected", "currentStatus": "COMPLETED"}


@pytest.mark.django_db
def test_unknown_transaction_is_not_found(staff_client, reviewer):
    # when
    response = staff_client(reviewer).post("/v1/api/accounts/confirm/TRX-00000000", {}, format="json")

    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Application not found with the provided transaction ID"}


@pytest.mark.django_db
def test_approval_is_unauthorized_when_only_the_admin_api_key_is_sent(api_client, api_keys, pending_application):
    # when
    response = api_client.post(f"/v1/api/accounts/confirm/{pending_application.transaction_id}", {"comment": ""},
                               format="json", HTTP_X_API_KEY=api_keys.admin)

    # then
    assert response.status_code == 401
    assert Event.objects.filter(aggregate_id=pending_application.application_id).count() == 1


@pytest.mark.django_db
def test_approval_is_forbidden_when_staff_lacks_the_permission(staff_client, staff_user, pending_application):
    # when
    response = _approve(staff_client(staff_user), pending_application)

    # then
    assert response.status_code == 403
    assert Event.objects.filter(aggregate_id=pending_application.application_id).count() == 1


@pytest.mark.django_db
def test_approval_is_forbidden_when_a_customer_token_is_sent(api_client_for, customer_user, api_keys,
                                                              pending_application):
    # given
    client = api_client_for(customer_user)

    # when
    response = client.post(f"/v1/api/accounts/confirm/{pending_application.transaction_id}", {}, format="json",
                           HTTP_X_API_KEY=api_keys.admin)

    # then
    assert response.status_code == 403


@pytest.mark.django_db
def test_comment_is_refused_when_too_long(staff_client, reviewer, pending_application):
    # when
    response = _approve(staff_client(reviewer), pending_application, comment="x" * 1001)

    # then
    assert response.status_code == 400
    assert "comment" in response.json()["fields"]
