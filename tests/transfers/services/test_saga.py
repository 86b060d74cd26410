"""The saga through the synchronous relay with a scripted core (flows.md R6, R7, R23–R28, R37, R38)."""
import pytest
from django.core import mail

from balance.models import AccountBalance, TransactionEntry
from outbox.core_banking.client import CoreResult, Outcome
from outbox.eventstore.models import Event
from outbox.invariants import invariants_check
from outbox.models import OutboxMessage
from tests.fixtures.transfers import (
    OPENING_YEN,
    PAYEE_ACCOUNT,
    PAYER_ACCOUNT,
    core_ambiguous,
    core_refused,
    transfer_body,
)
from transfers.models import Transfer

pytestmark = pytest.mark.django_db
TRANSFER_CODES = {"I1", "I2", "I3", "I5", "I8"}


def _accept(transfer_post, payer, amount=10_000):
    response = transfer_post(payer, transfer_body(amount))
    assert response.status_code == 202
    return response.json()["transactionId"]


def _timeline(transaction_id):
    return [(e.version, e.type, e.status, e.leg)
            for e in Event.objects.filter(aggregate_id=f"transfer-{transaction_id}").order_by("version")]


def _balances():
    return {a.account_id: (a.ledger_balance, a.pending_debits) for a in AccountBalance.objects.all()}


def _violations():
    return {r.code: r.violations for r in invariants_check(codes=TRANSFER_CODES) if r.violations}


def test_happy_transfer_writes_v1_to_v8_and_mails_the_payer_once(payer, payee, transfer_post, saga_drain, mock_core):
    # given
    transaction_id = _accept(transfer_post, payer)
    # when
    saga_drain()
    # then (scenario 1)
    assert _timeline(transaction_id) == [
        (1, "TransferRequested", "RECEIVED", None),
        (2, "WithdrawRequested", "WITHDRAW_REQUESTED", "WITHDRAW"),
        (3, "PROCESSING_STARTED", "processing", "WITHDRAW"),
        (4, "WITHDRAW_PROCESSED", "completed", "WITHDRAW"),
        (5, "DepositRequested", "DEPOSIT_REQUESTED", "DEPOSIT"),
        (6, "PROCESSING_STARTED", "processing", "DEPOSIT"),
        (7, "DEPOSIT_PROCESSED", "completed", "DEPOSIT"),
        (8, "TransferCompleted", "completed", "DEPOSIT"),
    ]
    processed = Event.objects.get(aggregate_id=f"transfer-{transaction_id}", version=4).data
    assert processed["success"] is True and processed["result"]["coreTransactionId"].startswith("WTH")
    completed = Event.objects.get(aggregate_id=f"transfer-{transaction_id}", version=8).data
    assert set(completed) == {"transactionId", "sourceAccountId", "targetAccountId", "amount", "completedAt",
                              "aggregateId", "version"}
    assert _balances() == {PAYER_ACCOUNT: (OPENING_YEN - 10_000, 0), PAYEE_ACCOUNT: (OPENING_YEN + 10_000, 0)}
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.leg, transfer.terminal, transfer.version) == ("completed", "DEPOSIT", True, 8)
    assert [m.to for m in mail.outbox] == [["user001@example.com"]]
    assert "振込完了" in mail.outbox[0].subject and transaction_id in mail.outbox[0].body
    keys = set(OutboxMessage.objects.values_list("key", flat=True))
    assert keys == {f"withdraw-{transaction_id}", f"deposit-{transaction_id}",
                    f"notify_transfer_completed-{transaction_id}"}
    assert _violations() == {}


def test_withdraw_refusal_fails_the_transfer_releases_the_hold_and_mails(payer, payee, transfer_post, saga_drain,
                                                                         mock_core):
    mock_core.script["withdraw"] = [core_refused(400, "Insufficient balance")]
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    assert [row[1:3] for row in _timeline(transaction_id)][-2:] == [("WITHDRAW_PROCESSED", "failed"),
                                                                    ("TransferFailed", "failed")]
    error = Event.objects.get(aggregate_id=f"transfer-{transaction_id}", type="WITHDRAW_PROCESSED").data["error"]
    assert error == {"code": "INSUFFICIENT_BALANCE", "message": "Insufficient balance", "httpStatus": 400}
    assert _balances() == {PAYER_ACCOUNT: (OPENING_YEN, 0), PAYEE_ACCOUNT: (OPENING_YEN, 0)}
    assert Transfer.objects.get().status == "failed" and Transfer.objects.get().terminal
    assert len(mail.outbox) == 1 and "振込失敗" in mail.outbox[0].subject
    assert "deposit" not in mock_core.names()
    assert _violations() == {}


def test_ambiguous_withdraw_takes_the_stored_answer_when_core_applied_it(payer, payee, transfer_post, saga_drain,
                                                                         mock_core):
    # given core applied the withdrawal but the answer was lost (scenario 2, unit level)
    stored = {"transactionId": "WTH1", "accountId": PAYER_ACCOUNT, "amount": 10_000, "status": "COMPLETED",
              "timestamp": "2025-09-18T00:50:16.020Z", "newBalance": OPENING_YEN - 10_000}
    mock_core.script["withdraw"] = [core_ambiguous()]
    mock_core.script["idempotency_lookup"] = [CoreResult(
        outcome=Outcome.SUCCESS, http_status=200, error="", replayed=False, elapsed_ms=1,
        body={"key": "k", "state": "applied", "statusCode": 200, "response": stored})]
    transaction_id = _accept(transfer_post, payer)
    # when
    saga_drain()
    # then one withdrawal call, the lookup, and one WITHDRAW_PROCESSED carrying the stored posting id
    assert mock_core.names().count("withdraw") == 1
    assert mock_core.names()[:2] == ["withdraw", "idempotency_lookup"]
    processed = Event.objects.filter(aggregate_id=f"transfer-{transaction_id}", type="WITHDRAW_PROCESSED")
    assert [e.data["result"]["coreTransactionId"] for e in processed] == ["WTH1"]
    assert Transfer.objects.get().status == "completed"
    assert _violations() == {}


def test_ambiguous_withdraw_is_retried_with_the_same_key_when_lookup_says_unknown(payer, payee, transfer_post,
                                                                                  saga_drain, mock_core):
    mock_core.script["withdraw"] = [core_ambiguous(), core_ambiguous("HTTP 500")]
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    withdraw_keys = [kwargs["idempotency_key"] for name, kwargs in mock_core.calls if name == "withdraw"]
    assert withdraw_keys == [f"withdraw-{transaction_id}"] * 3
    assert mock_core.names().count("idempotency_lookup") == 2
    assert [row[1] for row in _timeline(transaction_id)].count("PROCESSING_STARTED") == 2  # one per leg
    assert Transfer.objects.get().status == "completed"


def test_frozen_target_compensates_and_restores_the_source(payer, payee, transfer_post, saga_drain, mock_core):
    # given the deposit is refused (scenario 4, unit level): the key is voided, then refunded
    mock_core.script["deposit"] = [core_refused(409, "Account is not active")]
    transaction_id = _accept(transfer_post, payer)
    # when
    saga_drain()
    # then
    assert [row[1:4] for row in _timeline(transaction_id)][4:] == [
        ("DepositRequested", "DEPOSIT_REQUESTED", "DEPOSIT"),
        ("PROCESSING_STARTED", "processing", "DEPOSIT"),
        ("DEPOSIT_PROCESSED", "failed", "DEPOSIT"),
        ("CompensationRequested", "COMPENSATION_REQUESTED", "COMPENSATION"),
        ("PROCESSING_STARTED", "processing", "COMPENSATION"),
        ("COMPENSATION_PROCESSED", "completed", "COMPENSATION"),
        ("TransferCompensated", "COMPENSATED", "COMPENSATION"),
    ]
    void_keys = [kwargs["key"] for name, kwargs in mock_core.calls if name == "idempotency_void"]
    assert void_keys == [f"deposit-{transaction_id}"]
    refund = [kwargs for name, kwargs in mock_core.calls if name == "deposit"][-1]
    assert (refund["account_id"], refund["transaction_type"], refund["idempotency_key"]) == (
        PAYER_ACCOUNT, "TRANSFER_REFUND", f"refund-{transaction_id}")
    assert _balances() == {PAYER_ACCOUNT: (OPENING_YEN, 0), PAYEE_ACCOUNT: (OPENING_YEN, 0)}
    assert TransactionEntry.objects.filter(transfer_id=transaction_id).count() == 2
    assert len(mail.outbox) == 1 and "返金" in mail.outbox[0].subject
    assert Transfer.objects.get().status == "COMPENSATED"
    assert _violations() == {}


def test_refused_deposit_completes_when_the_void_finds_it_applied(payer, payee, transfer_post, saga_drain, mock_core):
    stored = {"transactionId": "DEP9", "accountId": PAYEE_ACCOUNT, "amount": 10_000, "status": "COMPLETED",
              "timestamp": "2025-09-18T00:50:16.020Z"}
    mock_core.script["deposit"] = [core_refused(409, "Account is not active")]
    mock_core.script["idempotency_void"] = [CoreResult(
        outcome=Outcome.DEFINITE, http_status=409, error="applied", replayed=False, elapsed_ms=1,
        body={"error": "Idempotency-Key was already applied", "state": "applied", "statusCode": 200,
              "response": stored})]
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    assert Transfer.objects.get().status == "completed"
    assert not OutboxMessage.objects.filter(key=f"refund-{transaction_id}").exists()
    assert _violations() == {}


def test_ambiguous_deposit_is_retried_forward_never_compensated(payer, payee, transfer_post, saga_drain, mock_core):
    mock_core.script["deposit"] = [core_ambiguous(), core_ambiguous(), core_ambiguous()]
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    assert Transfer.objects.get().status == "completed"
    assert "idempotency_void" not in mock_core.names()
    assert not OutboxMessage.objects.filter(key=f"refund-{transaction_id}").exists()
