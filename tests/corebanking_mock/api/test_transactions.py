"""Contract: withdraw, deposit (incl. refund) and GET /api/transaction/{id} (api.md §6.2, flows.md R22)."""
import re

import pytest

from corebanking_mock.models import Account, IdempotencyRecord, Posting

pytestmark = pytest.mark.django_db(databases=["default", "core"])

SOURCE, TARGET = "0011234567", "0017654321"
WITHDRAW = "/api/transactions/withdraw"
DEPOSIT = "/api/transactions/deposit"


def _balance(account_id: str) -> int:
    return Account.objects.get(pk=account_id).balance


def _counts() -> tuple[int, int]:
    return Posting.objects.count(), IdempotencyRecord.objects.count()


def test_withdrawal_debits_and_records_a_negative_posting_when_the_balance_suffices(core_api, core_db):
    # when
    response = core_api.post(WITHDRAW, {
        "accountId": SOURCE, "amount": 10_000, "description": "振込出金 - Transaction ID: TRX-1",
        "transactionType": "TRANSFER_WITHDRAWAL", "targetAccountId": TARGET, "transferId": "TRX-1",
    }, idempotency_key="withdraw-TRX-1")
    # then
    body = response.json()
    assert response.status_code == 200
    assert re.fullmatch(r"WTH\d{19}", body["transactionId"])
    assert body | {"transactionId": "x", "timestamp": "t"} == {
        "transactionId": "x", "accountId": SOURCE, "amount": 10_000, "status": "COMPLETED",
        "message": "Withdrawal processed successfully", "timestamp": "t", "newBalance": 9_990_000}
    assert _balance(SOURCE) == 9_990_000
    posting = Posting.objects.get(pk=body["transactionId"])
    assert (posting.amount, posting.type, posting.target_account_id, posting.transfer_id, posting.transfer_type) == (
        -10_000, "TRANSFER_WITHDRAWAL", TARGET, "TRX-1", "OUTBOUND")
    assert posting.idempotency_key == "withdraw-TRX-1"


def test_withdrawal_defaults_to_atm_without_transfer_keys_when_no_type_is_sent(core_api, core_db):
    # when
    body = core_api.post(WITHDRAW, {"accountId": SOURCE, "amount": 500, "targetAccountId": TARGET},
                         idempotency_key="atm-1").json()
    # then
    record = core_api.get(f"/api/transaction/{body['transactionId']}").json()
    assert record | {"timestamp": "t", "processedAt": "t"} == {
        "transactionId": body["transactionId"], "accountId": SOURCE, "type": "ATM_WITHDRAWAL", "amount": -500,
        "currency": "JPY", "status": "COMPLETED", "description": "ATM出金", "timestamp": "t", "processedAt": "t"}


def test_deposit_credits_and_records_a_positive_posting_when_the_account_is_active(core_api, core_db):
    # when
    response = core_api.post(DEPOSIT, {
        "accountId": TARGET, "amount": 10_000, "description": "振込入金 - Transaction ID: TRX-1",
        "transactionType": "TRANSFER_DEPOSIT", "sourceAccountId": SOURCE, "transferId": "TRX-1",
    }, idempotency_key="deposit-TRX-1")
    # then
    body = response.json()
    assert response.status_code == 200
    assert re.fullmatch(r"DEP\d{19}", body["transactionId"])
    assert body | {"transactionId": "x", "timestamp": "t"} == {
        "transactionId": "x", "accountId": TARGET, "amount": 10_000, "status": "COMPLETED",
        "message": "Deposit processed successfully", "timestamp": "t"}
    assert _balance(TARGET) == 10_010_000
    record = core_api.get(f"/api/transaction/{body['transactionId']}").json()
    assert (record["amount"], record["sourceAccountId"], record["transferId"], record["transferType"]) == (
        10_000, SOURCE, "TRX-1", "INBOUND")


def test_refund_is_a_deposit_with_its_own_type_when_transaction_type_is_transfer_refund(core_api, core_db):
    # when
    response = core_api.post(DEPOSIT, {"accountId": SOURCE, "amount": 700, "transactionType": "TRANSFER_REFUND",
                                       "sourceAccountId": TARGET, "transferId": "TRX-9"},
                             idempotency_key="refund-TRX-9")
    # then
    assert response.status_code == 200
    posting = Posting.objects.get(pk=response.json()["transactionId"])
    assert (posting.type, posting.amount, posting.description) == ("TRANSFER_REFUND", 700, "振込返金")
    assert _balance(SOURCE) == 10_000_700


def test_withdrawal_is_refused_with_balances_when_the_balance_is_insufficient(core_api, core_db):
    # when
    response = core_api.post(WITHDRAW, {"accountId": SOURCE, "amount": 10_000_001}, idempotency_key="w-big")
    # then
    assert response.status_code == 400
    assert response.json() == {"error": "Insufficient balance", "currentBalance": 10_000_000,
                               "requestedAmount": 10_000_001}
    assert _balance(SOURCE) == 10_000_000
    assert Posting.objects.count() == 5


def test_whole_balance_can_be_withdrawn_when_amount_equals_balance(core_api, core_db):
    # when
    response = core_api.post(WITHDRAW, {"accountId": SOURCE, "amount": 10_000_000}, idempotency_key="w-all")
    # then
    assert response.status_code == 200
    assert response.json()["newBalance"] == 0


@pytest.mark.parametrize("path", [WITHDRAW, DEPOSIT])
def test_money_movement_is_404_when_the_account_is_unknown(core_api, core_db, path):
    # when
    response = core_api.post(path, {"accountId": "0010000000", "amount": 1}, idempotency_key=f"k-{path}")
    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Account not found", "accountId": "0010000000"}
    assert Posting.objects.count() == 5


@pytest.mark.parametrize("path", [WITHDRAW, DEPOSIT])
@pytest.mark.parametrize("status", ["FROZEN", "INACTIVE"])
def test_money_movement_is_409_when_the_account_is_not_active(core_api, core_db, path, status):
    # given
    Account.objects.filter(pk=TARGET).update(status=status)
    # when
    response = core_api.post(path, {"accountId": TARGET, "amount": 1}, idempotency_key=f"k-{path}")
    # then
    assert response.status_code == 409
    assert response.json() == {"error": "Account is not active", "accountId": TARGET, "status": status}
    assert _balance(TARGET) == 10_000_000
    assert Posting.objects.count() == 5


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", True, None, 10**12 + 1, 1e300, [], {}])
@pytest.mark.parametrize("path", [WITHDRAW, DEPOSIT])
def test_amount_is_refused_and_nothing_written_when_it_is_not_a_positive_whole_yen_number(
        core_api, core_db, path, amount):
    # when
    response = core_api.post(path, {"accountId": SOURCE, "amount": amount}, idempotency_key="k-amount")
    # then
    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "accountId and positive amount are required"
    assert "amount" in body["fields"]
    assert _counts() == (5, 0)
    assert _balance(SOURCE) == 10_000_000


def test_integral_float_and_the_upper_limit_are_accepted_when_amount_is_whole_yen(core_api, core_db):
    # when
    as_float = core_api.post(DEPOSIT, {"accountId": SOURCE, "amount": 10.0}, idempotency_key="k-float")
    at_limit = core_api.post(DEPOSIT, {"accountId": SOURCE, "amount": 10**12}, idempotency_key="k-limit")
    # then
    assert (as_float.status_code, as_float.json()["amount"]) == (200, 10)
    assert at_limit.status_code == 200
    assert _balance(SOURCE) == 10_000_000 + 10 + 10**12


@pytest.mark.parametrize("path, body, field", [
    (WITHDRAW, {"amount": 1}, "accountId"),
    (WITHDRAW, {"accountId": SOURCE}, "amount"),
    (DEPOSIT, {"accountId": "", "amount": 1}, "accountId"),
])
def test_missing_field_is_named_when_a_required_field_is_absent(core_api, core_db, path, body, field):
    # when
    response = core_api.post(path, body, idempotency_key="k-missing")
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "accountId and positive amount are required"
    assert list(response.json()["fields"]) == [field]
    assert _counts() == (5, 0)


@pytest.mark.parametrize("path, transaction_type", [
    (WITHDRAW, "TRANSFER_DEPOSIT"), (WITHDRAW, "OPENING_DEPOSIT"), (DEPOSIT, "ATM_WITHDRAWAL"),
    (DEPOSIT, "OPENING_DEPOSIT"), (DEPOSIT, "BONUS"),
])
def test_transaction_type_is_refused_when_it_is_not_allowed_for_the_route(core_api, core_db, path, transaction_type):
    # when
    response = core_api.post(path, {"accountId": SOURCE, "amount": 1, "transactionType": transaction_type},
                             idempotency_key="k-type")
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"
    assert "transactionType" in response.json()["fields"]
    assert _counts() == (5, 0)


@pytest.mark.parametrize("raw, content_type, status, error", [
    ("", "application/json", 400, "Request body is required"),
    ("null", "application/json", 400, "Request body is required"),
    ('{"accountId": ', "application/json", 400, "Malformed JSON body"),
    ('"text"', "application/json", 400, "Request body must be a JSON object"),
    ('{"accountId": "0011234567", "amount": 1}', "text/plain", 415, "Content-Type must be application/json"),
    ("accountId=0011234567&amount=1", "application/x-www-form-urlencoded", 415,
     "Content-Type must be application/json"),
])
def test_body_is_refused_and_nothing_written_when_it_is_not_a_json_object(
        core_api, core_db, raw, content_type, status, error):
    # when
    response = core_api.post(WITHDRAW, raw=raw, content_type=content_type, idempotency_key="k-body")
    # then
    assert response.status_code == status
    assert response.json()["error"] == error
    assert _counts() == (5, 0)


def test_seeded_transaction_is_returned_exactly_when_fetched_by_id(core_api, core_db):
    # when
    response = core_api.get("/api/transaction/TXN001")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "transactionId": "TXN001", "accountId": SOURCE, "type": "TRANSFER_DEPOSIT", "amount": 20_000_000,
        "currency": "JPY", "status": "COMPLETED", "description": "振込による入金", "timestamp": "2024-01-15T10:00:00Z",
        "processedAt": "2024-01-15T10:00:00Z", "sourceAccountId": "9999999", "transferId": "TRF001",
        "transferType": "INBOUND"}


def test_unknown_transaction_is_404_when_fetched_by_id(core_api, core_db):
    # when
    response = core_api.get("/api/transaction/TXN999")
    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Transaction not found", "transactionId": "TXN999"}
