"""Contract: POST /api/accounts, GET /api/accounts/{id}, GET /api/accounts/{id}/transactions (api.md §6.2-6.4)."""
import datetime as dt
import re

import pytest

from corebanking_mock import services
from corebanking_mock.models import Account, IdempotencyRecord, Posting

pytestmark = pytest.mark.django_db(databases=["default", "core"])


def test_account_is_opened_with_the_opening_credit_when_the_request_is_valid(core_api):
    # when
    response = core_api.post("/api/accounts", {"customerId": "CUST-123456", "accountType": "SAVINGS",
                                               "initialBalance": 0, "currency": "JPY"}, idempotency_key="account-APP-1")
    # then
    body = response.json()
    assert response.status_code == 201
    assert re.fullmatch(r"001\d{7}", body["accountId"])
    assert body["accountNumber"] == body["accountId"]
    assert {k: body[k] for k in ("customerId", "accountType", "balance", "currency", "status", "branchCode")} == {
        "customerId": "CUST-123456", "accountType": "SAVINGS", "balance": 1_000_000, "currency": "JPY",
        "status": "ACTIVE", "branchCode": "001"}
    assert set(body) >= {"createdAt", "updatedAt"}


def test_opening_credit_is_its_own_posting_when_an_account_is_opened(core_api, settings):
    # given
    settings.CORE_MOCK_OPENING_CREDIT = 250_000
    # when
    body = core_api.post("/api/accounts", {"customerId": "C", "accountType": "CHECKING"},
                         idempotency_key="account-APP-2").json()
    # then
    postings = list(Posting.objects.filter(account_id=body["accountId"]))
    assert body["balance"] == 250_000
    assert [(p.type, p.amount, p.description) for p in postings] == [("OPENING_DEPOSIT", 250_000, "口座開設時入金")]
    history = core_api.get(f"/api/accounts/{body['accountId']}/transactions").json()
    assert history["transactions"][0]["type"] == "OPENING_DEPOSIT"


def test_initial_balance_is_ignored_when_the_request_sends_one(core_api):
    # when
    body = core_api.post("/api/accounts", {"customerId": "C", "accountType": "SAVINGS", "initialBalance": 99},
                         idempotency_key="account-APP-3").json()
    # then
    assert body["balance"] == 1_000_000


def test_generated_account_number_skips_seeded_numbers_and_collisions_when_drawn(core_api, core_db, monkeypatch):
    # given the random draws hit both seeded numbers, then an existing account, then a free number
    draws = iter([1234567, 7654321, 1111111, 1111111, 2222222])
    real_randbelow = services.secrets.randbelow
    monkeypatch.setattr(services.secrets, "randbelow",
                        lambda n: next(draws) if n == 10_000_000 else real_randbelow(n))
    Account.objects.create(account_id="0011111111", customer_id="X", account_type="SAVINGS", balance=0)
    # when
    body = core_api.post("/api/accounts", {"customerId": "C", "accountType": "SAVINGS"},
                         idempotency_key="account-APP-4").json()
    # then
    assert body["accountId"] == "0012222222"


def test_seeded_account_has_branch_name_and_no_account_number_when_fetched(core_api, core_db):
    # when
    response = core_api.get("/api/accounts/0017654321")
    # then
    body = response.json()
    assert response.status_code == 200
    assert "accountNumber" not in body
    assert {k: body[k] for k in ("accountId", "customerId", "branchCode", "branchName", "accountType", "balance",
                                 "currency", "status")} == {
        "accountId": "0017654321", "customerId": "CUST002", "branchCode": "001",
        "branchName": "オンラインバンキング支店", "accountType": "SAVINGS", "balance": 10_000_000, "currency": "JPY",
        "status": "ACTIVE"}


def test_unknown_account_is_404_when_fetched(core_api, core_db):
    # when
    response = core_api.get("/api/accounts/0010000000")
    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Account not found", "accountId": "0010000000"}


def test_transactions_are_newest_first_with_transfer_keys_when_listed(core_api, core_db):
    # when
    response = core_api.get("/api/accounts/0017654321/transactions")
    # then
    body = response.json()
    assert response.status_code == 200
    assert body["accountId"] == "0017654321"
    assert body["totalCount"] == 2
    assert body["transactions"] == [
        {"transactionId": "TXN005", "accountId": "0017654321", "type": "TRANSFER_DEPOSIT", "amount": 5_000_000,
         "currency": "JPY", "status": "COMPLETED", "description": "振込による入金", "timestamp": "2024-02-10T14:30:00Z",
         "processedAt": "2024-02-10T14:30:00Z", "sourceAccountId": "0011234567", "transferId": "TRF002",
         "transferType": "INBOUND"},
        {"transactionId": "TXN004", "accountId": "0017654321", "type": "ATM_DEPOSIT", "amount": 5_000_000,
         "currency": "JPY", "status": "COMPLETED", "description": "ATM入金", "timestamp": "2024-01-20T11:15:00Z",
         "processedAt": "2024-01-20T11:15:00Z"},
    ]


def test_transactions_are_capped_at_50_when_the_account_has_more(core_api, core_db):
    # given
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    Posting.objects.bulk_create([
        Posting(transaction_id=f"P{i:03d}", account_id="0011234567", type="ATM_DEPOSIT", amount=1,
                description="x", timestamp=base + dt.timedelta(minutes=i)) for i in range(60)])
    # when
    body = core_api.get("/api/accounts/0011234567/transactions").json()
    # then
    assert body["totalCount"] == 50
    assert body["transactions"][0]["transactionId"] == "P059"
    assert body["transactions"][-1]["transactionId"] == "P010"


def test_transactions_are_empty_when_the_account_is_unknown(core_api, core_db):
    # when
    response = core_api.get("/api/accounts/0010000000/transactions")
    # then
    assert response.status_code == 200
    assert response.json() == {"accountId": "0010000000", "transactions": [], "totalCount": 0}


@pytest.mark.parametrize("body, message", [
    ({"accountType": "SAVINGS"}, "customerId and accountType are required"),
    ({"customerId": "C"}, "customerId and accountType are required"),
    ({"customerId": "C", "accountType": "GOLD"}, "customerId and accountType are required"),
    ([1, 2], "Request body must be a JSON object"),
])
def test_account_is_refused_and_nothing_written_when_the_body_is_invalid(core_api, body, message):
    # when
    response = core_api.post("/api/accounts", body, idempotency_key="account-APP-5")
    # then
    assert response.status_code == 400
    assert response.json()["error"] == message
    assert (Account.objects.count(), Posting.objects.count(), IdempotencyRecord.objects.count()) == (0, 0, 0)
