"""config/http_guards.py: `Cache-Control: no-store` on answers with account data (API and pages), 413 for
oversized bodies on form pages, and the web-page side of the hostile-input classes (history `page`, the
transfer admin's `as_of`). The JSON routes' side is tests/test_hostile_inputs.py."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from auth_app.models import LoginSession
from tests.fixtures.transfers import PAYER_ACCOUNT, transfer_body
from transfers.models import Transfer

pytestmark = pytest.mark.django_db


def assert_not_stored(response) -> None:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert "no-store" in directives, (response.request["PATH_INFO"], response.get("Cache-Control"))


@pytest.fixture
def accepted_transfer(payer, payee, transfer_post) -> str:
    response = transfer_post(payer, transfer_body(amount=1_000))
    assert response.status_code == 202
    return response.json()["transactionId"]


@pytest.mark.parametrize("path", ["/dashboard", "/history", "/history?page=2", "/transfer",
                                  "/transfers/{tx}", "/transfers/{tx}/steps", "/password/change"])
def test_customer_page_is_not_stored_when_it_shows_account_data(web_client, payer, accepted_transfer, path):
    response = web_client(payer).get(path.replace("{tx}", accepted_transfer))
    assert response.status_code == 200
    assert_not_stored(response)


@pytest.mark.parametrize("path", ["/v1/api/balance?accountId=" + PAYER_ACCOUNT,
                                  f"/v1/api/accounts/{PAYER_ACCOUNT}/transactions", "/v1/api/transfers/{tx}",
                                  "/v1/api/auth/verify"])
def test_api_answer_is_not_stored_when_it_carries_account_data(api_client_for, payer, accepted_transfer, path):
    response = api_client_for(payer).get(path.replace("{tx}", accepted_transfer))
    assert response.status_code == 200
    assert_not_stored(response)


def test_api_refusal_is_not_stored_either(api_client):
    response = api_client.get(f"/v1/api/balance?accountId={PAYER_ACCOUNT}")
    assert response.status_code == 401
    assert_not_stored(response)


def test_staff_admin_page_is_not_stored_when_it_lists_transfers(client, make_user, accepted_transfer):
    client.force_login(make_user("root990", is_staff=True, is_superuser=True))
    response = client.get("/admin/transfers/transfer/")
    assert response.status_code == 200
    assert_not_stored(response)


def test_view_keeps_its_own_cache_policy_when_it_sets_one(client):
    response = client.get("/config.json")
    assert response["Cache-Control"] == "no-cache, no-store, must-revalidate"


def test_login_form_answers_plain_413_when_body_exceeds_the_limit(customer_user):
    form = urlencode({"login_id": customer_user.get_username(), "password": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = Client(enforce_csrf_checks=True).post("/login", form,
                                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert LoginSession.objects.count() == 0


def test_transfer_form_answers_413_and_transfers_nothing_when_body_exceeds_the_limit(web_client, payer, payee):
    client = web_client(payer)
    form = urlencode({"target_account_id": "0017654321", "amount": "1000",
                      "description": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = client.post("/transfer/submit", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert Transfer.objects.count() == 0


@pytest.mark.parametrize("page", ["²", "①", "１", "٣"])
def test_history_page_answers_400_when_page_digits_are_not_ascii(web_client, payer, page):
    response = web_client(payer).get("/history", {"page": page})
    assert response.status_code == 400


@pytest.mark.parametrize("as_of", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+09:00",
                                   "2026-02-30T10:00:00", "２０２６-01-01T00:00:00Z", "garbage"])
def test_transfer_admin_reports_as_of_error_when_instant_is_impossible(client, make_user, accepted_transfer, as_of):
    client.force_login(make_user("root991", is_staff=True, is_superuser=True))
    transfer = Transfer.objects.get(transaction_id=accepted_transfer)
    response = client.get(f"/admin/transfers/transfer/{transfer.pk}/change/", {"as_of": as_of},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The time could not be read; showing the current state." in html
    assert "WithdrawRequested" in html or "TransferRequested" in html  # the current timeline is shown


def test_transfer_admin_reads_a_naive_as_of_in_tokyo_time(client, make_user, accepted_transfer):
    client.force_login(make_user("root992", is_staff=True, is_superuser=True))
    transfer = Transfer.objects.get(transaction_id=accepted_transfer)
    response = client.get(f"/admin/transfers/transfer/{transfer.pk}/change/", {"as_of": "2000-01-01T09:00:00"},
                          HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "no events yet" in html and "could not be read" not in html
