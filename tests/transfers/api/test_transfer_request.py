"""POST /v1/api/transfer — api.md §2.6, flows.md R5, R25, R30: 202 with the original body, refusals write nothing."""
import re

import pytest

from balance.models import AccountBalance
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage
from tests.fixtures.transfers import OPENING_YEN, PAYEE_ACCOUNT, PAYER_ACCOUNT, transfer_body
from transfers.models import Transfer

pytestmark = pytest.mark.django_db
HEX32 = re.compile(r"^[0-9a-f]{32}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _counts():
    return (Event.objects.count(), OutboxMessage.objects.count(), Transfer.objects.count(),
            AccountBalance.objects.get(account_id=PAYER_ACCOUNT).pending_debits)


def test_request_answers_202_with_original_body_when_accepted(payer, payee, transfer_post, mock_core):
    # when
    response = transfer_post(payer, transfer_body(10_000))
    # then
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"message", "transactionId", "timestamp", "aggregateId", "version"}
    assert body["message"] == "振込依頼を受け付けました"
    assert HEX32.match(body["transactionId"]) and ISO_MS.match(body["timestamp"])
    assert body["aggregateId"] == f"transfer-{body['transactionId']}" and body["version"] == 1
    events = list(Event.objects.filter(aggregate_id=body["aggregateId"]).order_by("version"))
    assert [(e.version, e.type, e.status, e.leg) for e in events] == [
        (1, "TransferRequested", "RECEIVED", None), (2, "WithdrawRequested", "WITHDRAW_REQUESTED", "WITHDRAW")]
    requested = events[0].data
    assert requested["transactionType"] == "TRANSFER" and requested["amount"] == 10_000
    assert requested["transferDetails"] == {"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT,
                                            "transferId": body["transactionId"], "transferType": "BANK_TRANSFER"}
    assert events[0].metadata["correlationId"] == body["transactionId"]
    assert events[1].data["outboxRecordId"] == events[1].data["idempotencyKey"] == f"withdraw-{body['transactionId']}"
    message = OutboxMessage.objects.get()
    assert (message.key, message.kind, message.queue) == (f"withdraw-{body['transactionId']}", "withdraw", "core")
    assert {k: message.payload[k] for k in ("accountId", "targetAccountId", "amount", "transactionId")} == {
        "accountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": 10_000,
        "transactionId": body["transactionId"]}
    payer_account = AccountBalance.objects.get(account_id=PAYER_ACCOUNT)
    assert (payer_account.ledger_balance, payer_account.pending_debits) == (OPENING_YEN, 10_000)
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.leg, transfer.version, transfer.terminal) == (
        "WITHDRAW_REQUESTED", "WITHDRAW", 2, False)
    assert mock_core.calls == []  # the pre-check never calls core (R25)


def test_alias_path_accepts_when_plural(payer, payee, transfer_post, mock_core):
    assert transfer_post(payer, transfer_body(), path="/v1/api/transfers").status_code == 202


def test_request_is_forbidden_and_writes_nothing_when_source_is_not_the_callers(payer, payee, transfer_post,
                                                                                 mock_core):
    # given
    before = _counts()
    # when the payee tries to debit the payer's account
    response = transfer_post(payee, transfer_body(1000))
    # then
    assert response.status_code == 403
    assert "message" in response.json()
    assert _counts() == before


@pytest.mark.parametrize("body, message", [
    ({"targetAccountId": PAYEE_ACCOUNT, "amount": 1}, "Invalid request. Required fields"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": 0}, "Invalid request"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": -5}, "Invalid request"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": "100"}, "positive integer"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": 10.5}, "positive integer"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": True}, "Invalid request"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": 10_000_001}, "must not exceed"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYER_ACCOUNT, "amount": 1}, "must differ"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": PAYEE_ACCOUNT, "amount": 1, "description": "x" * 141},
     "at most 140"),
    ({"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": "0019999999", "amount": 1}, "送金先口座が見つかりません"),
])
def test_request_is_refused_with_400_and_writes_nothing_when_invalid(payer, payee, transfer_post, mock_core, body,
                                                                      message):
    before = _counts()
    response = transfer_post(payer, body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert _counts() == before


def test_request_is_refused_when_target_is_frozen(payer, payee, transfer_post, mock_core):
    AccountBalance.objects.filter(account_id=PAYEE_ACCOUNT).update(status="FROZEN")
    before = _counts()
    response = transfer_post(payer, transfer_body())
    assert response.status_code == 400
    assert response.json()["message"] == "送金先口座が見つかりません。口座番号をご確認ください。"
    assert _counts() == before


def test_request_is_rejected_with_event_when_available_balance_is_short(payer, payee, transfer_post, mock_core,
                                                                        settings):
    # given most of the balance is on hold for an accepted transfer (daily limit out of the way)
    settings.TRANSFER_DAILY_LIMIT = 10 * OPENING_YEN
    assert transfer_post(payer, transfer_body(OPENING_YEN - 100)).status_code == 202
    # when the next transfer exceeds the available balance (ledger − holds)
    response = transfer_post(payer, transfer_body(500))
    # then the original's 400 with a transaction id, and a TransferRejected event (v1, REJECTED), no row
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "口座残高が不足しております。振込金額をご確認してください。"
    assert HEX32.match(body["transactionId"])
    rejected = Event.objects.get(aggregate_id=f"transfer-{body['transactionId']}")
    assert (rejected.version, rejected.type, rejected.status) == (1, "TransferRejected", "REJECTED")
    assert rejected.data["reason"] == rejected.data["transferDetails"]["failureReason"] == "INSUFFICIENT_BALANCE"
    assert rejected.data["currentBalance"] == 100
    assert rejected.metadata["transactionCategory"] == "TRANSFER_FAILED"
    assert OutboxMessage.objects.count() == 1
    assert Transfer.objects.get(transaction_id=body["transactionId"]).status == "REJECTED"
    assert AccountBalance.objects.get(account_id=PAYER_ACCOUNT).pending_debits == OPENING_YEN - 100


def test_request_is_refused_when_daily_limit_would_be_exceeded(payer, payee, transfer_post, mock_core, settings):
    settings.TRANSFER_DAILY_LIMIT = 15_000
    assert transfer_post(payer, transfer_body(10_000)).status_code == 202
    before = _counts()
    response = transfer_post(payer, transfer_body(6_000))
    assert response.status_code == 400 and "daily" in response.json()["message"]
    assert _counts() == before


def test_same_idempotency_key_replays_first_answer_and_other_body_gets_422(payer, payee, transfer_post, mock_core):
    first = transfer_post(payer, transfer_body(1000), idempotency_key="click-1")
    again = transfer_post(payer, transfer_body(1000), idempotency_key="click-1")
    other = transfer_post(payer, transfer_body(2000), idempotency_key="click-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert other.status_code == 422
    assert Transfer.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_two_identical_requests_without_key_are_two_transfers(payer, payee, transfer_post, mock_core):
    assert transfer_post(payer, transfer_body(1000)).status_code == 202
    assert transfer_post(payer, transfer_body(1000)).status_code == 202
    assert Transfer.objects.count() == 2
