"""End to end over the real relay and the real core mock over HTTP (flows.md §1.5, R31–R37; §5.12 7, 8).

Application → staff approval → relay (create_account against core) → completion mail with a temporary
password → login → password change forced → balance.
"""
from __future__ import annotations

import json
import logging

import pytest

from accounts.models import Application
from accounts.services import application_provisioning_retry
from corebanking_mock.models import Account, Customer
from outbox.core_banking import client as core_client
from outbox.core_banking.client import CoreResult, Outcome
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage
from outbox.relay import drain
from tests.fixtures.accounts import ORIGINAL_BODY, password_from_mail

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "core"])

NEW_PASSWORD = "a-brand-new-Secret-42"


def _apply_and_approve(api_client, api_keys, staff_client, reviewer) -> Application:
    created = api_client.post("/v1/api/accounts", ORIGINAL_BODY, format="json", HTTP_X_API_KEY=api_keys.customer)
    assert created.status_code == 201
    application = Application.objects.get(application_id=created.json()["id"])
    approved = staff_client(reviewer).post(f"/v1/api/accounts/confirm/{application.transaction_id}",
                                           {"comment": "OK"}, format="json")
    assert approved.status_code == 200
    return application


def _core_counts() -> tuple[int, int]:
    customers = Customer.objects.filter(email=ORIGINAL_BODY["customerInfo"]["email"])
    return customers.count(), Account.objects.filter(customer_id__in=customers.values("customer_id")).count()


def test_applicant_logs_in_and_must_change_password_when_the_account_is_provisioned(
        core_db, core_server, api_client, api_keys, staff_client, reviewer, outbox_nudges, mail_bodies, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    responses = []
    application = _apply_and_approve(api_client, api_keys, staff_client, reviewer)

    # when
    drain(queue="notify")
    drain(queue="core")
    drain(queue="notify")

    # then: completed with one customer, one account, one login; two mails (receipt, completion)
    application.refresh_from_db()
    assert application.status == "COMPLETED"
    assert application.login_id.startswith("user-")
    assert _core_counts() == (1, 1)
    subjects = [mail_subject for mail_subject in _subjects()]
    assert subjects == ["【サンプル銀行】口座開設申込受付のお知らせ", "【サンプル銀行】口座開設完了のお知らせ"]
    password = password_from_mail(mail_bodies()[1])
    assert len(password) >= 12
    assert application.login_id in mail_bodies()[1]

    # when: the applicant logs in with the mailed credentials
    login = api_client.post("/v1/api/auth/login", {"loginId": application.login_id, "password": password},
                            format="json", HTTP_X_API_KEY=api_keys.auth)
    responses.append(login)
    assert login.status_code == 200
    assert login.json()["mustChangePassword"] is True
    token = login.json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_API_KEY": api_keys.customer}
    balance_url = f"/v1/api/balance?accountId={application.account_id}"
    refused = api_client.get(balance_url, **auth)
    responses.append(refused)
    changed = api_client.post("/v1/api/auth/password", {"currentPassword": password, "newPassword": NEW_PASSWORD},
                              format="json", **auth)
    responses.append(changed)
    allowed = api_client.get(balance_url, **auth)
    responses.append(allowed)

    # then
    assert refused.status_code == 403
    assert refused.json() == {"message": "Password change required",
                              "error": {"code": "PASSWORD_CHANGE_REQUIRED", "message": "パスワードの変更が必要です"}}
    assert changed.status_code == 200
    assert allowed.status_code == 200
    assert allowed.json()["accountInfo"]["accountId"] == application.account_id

    # then: the staff routes never show the password
    client = staff_client(reviewer)
    credentials = client.get(f"/v1/admin/account-applications/{application.application_id}/credentials")
    responses += [credentials, client.get("/v1/admin/account-applications"),
                  client.get(f"/v1/admin/account-applications/{application.application_id}/events"),
                  api_client.get(f"/v1/api/accounts/{application.application_id}", HTTP_X_API_KEY=api_keys.customer)]
    assert credentials.json() == {
        "applicationId": application.application_id, "transactionId": application.transaction_id,
        "loginId": application.login_id, "temporaryPassword": None, "delivery": "mail",
        "accountNumber": application.account_number, "branchCode": "001",
        "completedAt": credentials.json()["completedAt"]}
    # ... nor any response, log line, event or outbox row
    for response in responses:
        assert password not in response.content.decode()
    assert password not in caplog.text
    for event in Event.objects.all():
        assert password not in json.dumps(event.data, ensure_ascii=False)
        assert password not in json.dumps(event.metadata, ensure_ascii=False)
    for row in OutboxMessage.objects.all():
        assert password not in json.dumps([row.payload, row.progress, row.error_message], ensure_ascii=False)

    # then: the full history in order
    history = [(event.version, event.type) for event in
               Event.objects.filter(aggregate_id=application.application_id).order_by("version")]
    assert history == [(1, "AccountOpeningApplicationCreated"), (2, "AccountOpeningApplicationConfirmed"),
                       (3, "AccountOpeningNotificationReceiptNotified"), (4, "AccountOpeningApplicationCompleted"),
                       (5, "AccountOpeningNotificationCompletionNotified")]
    completed = Event.objects.get(aggregate_id=application.application_id, version=4)
    assert completed.data["createdAt"] == application.snapshot["createdAt"]
    assert completed.data["confirmedAt"]
    assert completed.metadata["processHistoryEntry"] == {
        "status": "account_created", "type": "core_banking_integration", "accountId": application.account_id,
        "accountNumber": application.account_number}


def _subjects() -> list[str]:
    from django.core import mail

    return [message.subject for message in mail.outbox]


def test_provisioning_completes_once_when_core_was_down_and_comes_back(
        core_db, core_faults, api_client, api_keys, staff_client, reviewer, outbox_nudges, fast_retries):
    # given
    application = _apply_and_approve(api_client, api_keys, staff_client, reviewer)
    core_faults.set(mode="down")

    # when: the first attempt fails while core is down
    first = drain(queue="core")

    # then
    row = OutboxMessage.objects.get(kind="create_account")
    assert first.retried == 1
    assert (row.status, row.retry_count) == ("pending", 1)
    application.refresh_from_db()
    assert application.status == "CONFIRMED"

    # when: core comes back
    core_faults.set(mode="up")
    drain(queue="core")

    # then
    application.refresh_from_db()
    assert application.status == "COMPLETED"
    assert _core_counts() == (1, 1)


def test_provisioning_resumes_with_the_same_customer_when_the_account_step_fails_definitively(
        core_db, core_server, api_client, api_keys, staff_client, reviewer, outbox_nudges, monkeypatch):
    # given
    application = _apply_and_approve(api_client, api_keys, staff_client, reviewer)
    refusal = CoreResult(outcome=Outcome.DEFINITE, http_status=409, body={"error": "Customer is not active"},
                         error="Customer is not active", replayed=False, elapsed_ms=1.0)
    monkeypatch.setattr(core_client, "account_create", lambda **kwargs: refusal)

    # when
    drain(queue="core")

    # then: visible failed state (event + dead letter), still CONFIRMED, customer created once
    application.refresh_from_db()
    row = OutboxMessage.objects.get(kind="create_account")
    assert application.status == "CONFIRMED"
    assert "Customer is not active" in application.provisioning_error
    assert row.status == "failed" and row.needs_attention
    assert row.progress["customerId"]
    assert Event.objects.filter(aggregate_id=application.application_id,
                                type="AccountOpeningProvisioningFailed").count() == 1
    assert _core_counts() == (1, 0)

    # when: the cause is fixed and staff retries
    monkeypatch.undo()
    application_provisioning_retry(application_id=application.application_id, actor=f"admin:{reviewer.pk}")
    drain(queue="core")

    # then
    application.refresh_from_db()
    assert application.status == "COMPLETED"
    assert application.provisioning_error == ""
    assert application.customer_id == row.progress["customerId"]
    assert _core_counts() == (1, 1)
