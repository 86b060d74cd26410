"""Contract: Idempotency-Key on every POST, replay, 422, void, lookup (flows.md R21, R22)."""
import pytest

from corebanking_mock.models import Account, Customer, IdempotencyRecord, Posting

pytestmark = pytest.mark.django_db(databases=["default", "core"])

SOURCE, TARGET = "0011234567", "0017654321"
WITHDRAW = "/api/transactions/withdraw"
DEPOSIT = "/api/transactions/deposit"
WITHDRAW_BODY = {"accountId": SOURCE, "amount": 10_000, "transactionType": "TRANSFER_WITHDRAWAL",
                 "targetAccountId": TARGET, "transferId": "TRX-1"}


@pytest.mark.parametrize("path, body", [
    ("/api/customers", {"customerInfo": {"fullName": "a", "email": "a@example.com"}}),
    ("/api/accounts", {"customerId": "C", "accountType": "SAVINGS"}),
    (WITHDRAW, WITHDRAW_BODY),
    (DEPOSIT, {"accountId": TARGET, "amount": 1}),
])
def test_post_is_refused_and_nothing_written_when_the_idempotency_key_is_missing(core_api, core_db, path, body):
    # when
    response = core_api.post(path, body)
    # then
    assert response.status_code == 400
    assert response.json() == {"error": "Idempotency-Key header is required"}
    assert (Customer.objects.count(), Account.objects.count(), Posting.objects.count()) == (2, 2, 5)
    assert IdempotencyRecord.objects.count() == 0


def test_key_is_refused_when_it_is_too_long(core_api, core_db):
    # when
    response = core_api.post(WITHDRAW, WITHDRAW_BODY, idempotency_key="k" * 256)
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "Idempotency-Key must be 1-255 visible ASCII characters"


def test_repeat_gets_the_stored_answer_and_moves_no_money_when_the_same_request_is_sent_again(core_api, core_db):
    # given
    first = core_api.post(WITHDRAW, WITHDRAW_BODY, idempotency_key="withdraw-TRX-1")
    # when
    second = core_api.post(WITHDRAW, WITHDRAW_BODY, idempotency_key="withdraw-TRX-1")
    # then
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Posting.objects.filter(idempotency_key="withdraw-TRX-1").count() == 1
    assert Account.objects.get(pk=SOURCE).balance == 9_990_000


@pytest.mark.parametrize("path, body", [
    ("/api/customers", {"customerInfo": {"fullName": "a", "email": "a@example.com"}}),
    ("/api/accounts", {"customerId": "C", "accountType": "SAVINGS"}),
])
def test_repeat_creates_nothing_new_when_a_create_is_sent_again(core_api, core_db, path, body):
    # given
    first = core_api.post(path, body, idempotency_key="create-1")
    # when
    second = core_api.post(path, body, idempotency_key="create-1")
    # then
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert (Customer.objects.count(), Account.objects.count(), Posting.objects.count()) in [(3, 2, 5), (2, 3, 6)]


@pytest.mark.parametrize("path, body", [
    (WITHDRAW, WITHDRAW_BODY | {"amount": 10_001}),
    (DEPOSIT, WITHDRAW_BODY | {"transactionType": "TRANSFER_DEPOSIT"}),
])
def test_key_reuse_is_422_and_nothing_moves_when_the_request_differs(core_api, core_db, path, body):
    # given
    core_api.post(WITHDRAW, WITHDRAW_BODY, idempotency_key="withdraw-TRX-1")
    # when
    response = core_api.post(path, body, idempotency_key="withdraw-TRX-1")
    # then
    assert response.status_code == 422
    assert response.json() == {"error": "Idempotency-Key was already used for a different request",
                               "key": "withdraw-TRX-1"}
    assert Posting.objects.count() == 6
    assert Account.objects.get(pk=SOURCE).balance == 9_990_000


def test_refusal_is_replayed_identically_when_the_situation_has_changed_since(core_api, core_db):
    # given an insufficient-balance refusal, then money arrives
    body = {"accountId": SOURCE, "amount": 10_000_001}
    first = core_api.post(WITHDRAW, body, idempotency_key="withdraw-big")
    core_api.post(DEPOSIT, {"accountId": SOURCE, "amount": 5}, idempotency_key="deposit-5")
    # when
    second = core_api.post(WITHDRAW, body, idempotency_key="withdraw-big")
    # then
    assert first.status_code == second.status_code == 400
    assert second.json() == first.json() == {"error": "Insufficient balance", "currentBalance": 10_000_000,
                                             "requestedAmount": 10_000_001}
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Account.objects.get(pk=SOURCE).balance == 10_000_005


@pytest.mark.parametrize("prepare, status", [
    (lambda: None, 404),
    (lambda: Account.objects.filter(pk=SOURCE).update(status="FROZEN"), 409),
])
def test_unknown_or_frozen_refusal_is_stored_when_it_is_a_business_answer(core_api, core_db, prepare, status):
    # given
    prepare()
    body = {"accountId": SOURCE if status == 409 else "0010000000", "amount": 1}
    first = core_api.post(DEPOSIT, body, idempotency_key="deposit-x")
    Account.objects.filter(pk=SOURCE).update(status="ACTIVE")
    # when
    second = core_api.post(DEPOSIT, body, idempotency_key="deposit-x")
    # then
    assert first.status_code == second.status_code == status
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get(pk="deposit-x").status_code == status


def test_shape_error_is_not_stored_when_the_body_is_invalid(core_api, core_db):
    # given
    core_api.post(WITHDRAW, {"accountId": SOURCE, "amount": -1}, idempotency_key="withdraw-TRX-2")
    # when the corrected request comes with the same key
    response = core_api.post(WITHDRAW, {"accountId": SOURCE, "amount": 1}, idempotency_key="withdraw-TRX-2")
    # then
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers


def test_lookup_returns_state_and_stored_answer_when_the_key_was_applied(core_api, core_db):
    # given
    applied = core_api.post(WITHDRAW, WITHDRAW_BODY, idempotency_key="withdraw-TRX-1").json()
    # when
    response = core_api.get("/api/idempotency/withdraw-TRX-1")
    # then
    body = response.json()
    assert response.status_code == 200
    assert {k: body[k] for k in ("key", "state", "statusCode", "response")} == {
        "key": "withdraw-TRX-1", "state": "applied", "statusCode": 200, "response": applied}
    assert body["createdAt"].endswith("Z")


def test_lookup_is_404_when_the_key_was_never_seen(core_api, core_db):
    # when
    response = core_api.get("/api/idempotency/withdraw-TRX-404")
    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Idempotency key not found", "key": "withdraw-TRX-404"}


def test_void_stores_a_tombstone_and_later_requests_get_409_when_the_key_was_unknown(core_api, core_db):
    # given
    voided = core_api.post("/api/idempotency/withdraw-TRX-1/void")
    # when
    late = core_api.post(WITHDRAW, WITHDRAW_BODY, idempotency_key="withdraw-TRX-1")
    # then
    assert (voided.status_code, voided.json()) == (200, {"key": "withdraw-TRX-1", "state": "voided"})
    assert late.status_code == 409
    assert late.json() == {"error": "Idempotency-Key has been voided", "key": "withdraw-TRX-1", "state": "voided"}
    assert Posting.objects.count() == 5
    assert Account.objects.get(pk=SOURCE).balance == 10_000_000
    lookup = core_api.get("/api/idempotency/withdraw-TRX-1").json()
    assert (lookup["state"], lookup["statusCode"], lookup["response"]) == ("voided", None, None)


def test_void_is_200_again_when_the_key_is_already_voided(core_api, core_db):
    # given
    core_api.post("/api/idempotency/k-void/void")
    # when
    response = core_api.post("/api/idempotency/k-void/void")
    # then
    assert (response.status_code, response.json()) == (200, {"key": "k-void", "state": "voided"})


def test_void_is_409_with_the_stored_answer_when_the_key_was_applied(core_api, core_db):
    # given
    applied = core_api.post(WITHDRAW, WITHDRAW_BODY, idempotency_key="withdraw-TRX-1").json()
    # when
    response = core_api.post("/api/idempotency/withdraw-TRX-1/void")
    # then
    assert response.status_code == 409
    assert response.json() == {"error": "Idempotency-Key was already applied", "key": "withdraw-TRX-1",
                               "state": "applied", "statusCode": 200, "response": applied}
    assert IdempotencyRecord.objects.get(pk="withdraw-TRX-1").state == "applied"
