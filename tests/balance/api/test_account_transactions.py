"""GET /v1/api/accounts/{id}/transactions — §2.4 shape, items §2.5, newest first, owner-only, pagination."""
import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_account(open_account, post_entry, customer_user):
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    post_entry(account, 10_000_000, type="ATM_DEPOSIT", at=timezone.now() - dt.timedelta(days=400))
    base = timezone.now() - dt.timedelta(days=200)
    for minute in range(119):
        post_entry(account, -100, type="ATM_WITHDRAWAL", at=base + dt.timedelta(minutes=minute),
                   core_transaction_id=f"WTH{minute:06d}")
    return account


def test_history_first_page_behaves_as_original_when_no_parameters(api_client_for, customer_user, busy_account):
    # when
    response = api_client_for(customer_user).get(f"/v1/api/accounts/{busy_account.account_id}/transactions")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["accountId"] == busy_account.account_id
    assert isinstance(body["transactions"], list)
    assert len(body["transactions"]) == 50
    assert body["totalCount"] == 50
    assert body["limit"] == 10
    assert body["hasMore"] is True
    assert body["transactions"][0]["transactionId"] == "WTH000118", "newest first"


def test_history_pages_through_every_posting(api_client_for, customer_user, busy_account):
    client = api_client_for(customer_user)
    seen = []
    for page in (1, 2, 3):
        body = client.get(f"/v1/api/accounts/{busy_account.account_id}/transactions?page={page}&pageSize=50").json()
        seen += [item["transactionId"] for item in body["transactions"]]
    assert len(seen) == 120 and len(set(seen)) == 120
    assert body["hasMore"] is False
    assert body["transactions"][-1]["amount"] == 10_000_000


@pytest.mark.parametrize("query", ["page=0", "page=-1", "pageSize=0", "pageSize=100000", "page=abc"])
def test_history_is_400_when_pagination_invalid(api_client_for, customer_user, busy_account, query):
    response = api_client_for(customer_user).get(f"/v1/api/accounts/{busy_account.account_id}/transactions?{query}")
    assert response.status_code == 400
    assert "message" in response.json()


def test_history_is_404_without_data_for_another_customer(api_client_for, other_customer_user, busy_account):
    response = api_client_for(other_customer_user).get(f"/v1/api/accounts/{busy_account.account_id}/transactions")
    assert response.status_code == 404
    assert "transactions" not in response.json()


def test_history_items_carry_category_icon_and_counterparty(api_client_for, customer_user, open_account, post_entry):
    # given one posting of each kind
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    now = timezone.now()
    post_entry(account, 5000, type="TRANSFER_DEPOSIT", at=now - dt.timedelta(minutes=4), source_account_id="0017654321",
               transfer_id="abc", core_transaction_id="DEP1")
    post_entry(account, -2000, type="TRANSFER_WITHDRAWAL", at=now - dt.timedelta(minutes=3),
               target_account_id="0017654321", transfer_id="abc", core_transaction_id="WTH1")
    post_entry(account, 1000, type="OPENING_DEPOSIT", at=now - dt.timedelta(minutes=2), core_transaction_id="OPN1")
    post_entry(account, -500, type="ATM_WITHDRAWAL", at=now - dt.timedelta(minutes=1), core_transaction_id="ATM1")
    # when
    items = {item["transactionId"]: item for item in api_client_for(customer_user).get(
        f"/v1/api/accounts/{account.account_id}/transactions").json()["transactions"]}
    # then (§2.5)
    assert items["DEP1"] == {"transactionId": "DEP1", "timestamp": items["DEP1"]["timestamp"],
                                   "type": "TRANSFER_DEPOSIT", "amount": 5000, "status": "COMPLETED",
                                   "description": "振込入金", "category": "transfer", "icon": "💸",
                                   "sourceInfo": "送金元: 0017654321", "transferId": "abc"}
    assert items["WTH1"]["targetInfo"] == "送金先: 0017654321" and "sourceInfo" not in items["WTH1"]
    assert (items["OPN1"]["category"], items["OPN1"]["icon"], items["OPN1"]["description"]) == ("other", "⬇️", "入金")
    assert (items["ATM1"]["category"], items["ATM1"]["icon"], items["ATM1"]["description"]) == ("atm", "🏧", "ATM出金")
