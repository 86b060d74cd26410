"""Acceptance scenarios 1, 2, 4, 5 (flows.md §5.12) against the real core mock over HTTP."""
import pytest
from django.core import mail

from corebanking_mock.models import Account, Posting
from outbox.core_banking import client as core_client
from outbox.eventstore.models import Event
from outbox.invariants import invariants_check
from outbox.models import OutboxMessage, OutboxStatus
from tests.fixtures.transfers import OPENING_YEN, PAYEE_ACCOUNT, PAYER_ACCOUNT, transfer_body
from transfers.models import Transfer

pytestmark = [pytest.mark.django_db(transaction=True, databases=["default", "core"]), pytest.mark.slow]


def _core_balances():
    return dict(Account.objects.using("core").filter(pk__in=[PAYER_ACCOUNT, PAYEE_ACCOUNT])
                .values_list("pk", "balance"))


def _accept(transfer_post, payer, amount=10_000):
    response = transfer_post(payer, transfer_body(amount))
    assert response.status_code == 202
    return response.json()["transactionId"]


def _violations():
    return {r.code: r.violations for r in invariants_check() if r.violations}


def test_scenario_1_happy_transfer_over_http(core_db, core_server, payer, payee, transfer_post, saga_drain):
    before = _core_balances()
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    assert [e.type for e in Event.objects.filter(aggregate_id=f"transfer-{transaction_id}").order_by("version")] == [
        "TransferRequested", "WithdrawRequested", "PROCESSING_STARTED", "WITHDRAW_PROCESSED", "DepositRequested",
        "PROCESSING_STARTED", "DEPOSIT_PROCESSED", "TransferCompleted"]
    after = _core_balances()
    assert after[PAYER_ACCOUNT] == before[PAYER_ACCOUNT] - 10_000
    assert after[PAYEE_ACCOUNT] == before[PAYEE_ACCOUNT] + 10_000
    descriptions = set(Posting.objects.using("core").filter(transfer_id=transaction_id)
                       .values_list("description", flat=True))
    assert descriptions == {f"振込出金 - Transaction ID: {transaction_id}",
                            f"振込入金 - Transaction ID: {transaction_id}"}
    assert len(mail.outbox) == 1
    assert _violations() == {}


def test_scenario_2_lost_withdraw_answer_debits_once(core_db, core_faults, payer, payee, transfer_post, saga_drain,
                                                     settings):
    # given core applies each money call, then hangs past the client's read timeout
    settings.CORE_BANKING_READ_TIMEOUT = 0.3
    core_faults.set(group="transactions", blackhole_after_apply=1.0, hang_seconds=0.8)
    before = _core_balances()
    transaction_id = _accept(transfer_post, payer)
    # when
    saga_drain()
    # then exactly one debit, one WITHDRAW_PROCESSED, and the transfer completes
    assert Posting.objects.using("core").filter(idempotency_key=f"withdraw-{transaction_id}").count() == 1
    assert _core_balances()[PAYER_ACCOUNT] == before[PAYER_ACCOUNT] - 10_000
    assert Event.objects.filter(aggregate_id=f"transfer-{transaction_id}", type="WITHDRAW_PROCESSED").count() == 1
    assert Transfer.objects.get().status == "completed"
    core_faults.reset()
    assert _violations() == {}


def test_scenario_4_frozen_target_is_compensated(core_db, core_faults, payer, payee, transfer_post, saga_drain):
    # given the payee is frozen in core (the read model has not noticed yet)
    core_faults.account_status_set(account_id=PAYEE_ACCOUNT, status="FROZEN")
    before = _core_balances()
    transaction_id = _accept(transfer_post, payer)
    # when
    saga_drain()
    # then
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.leg, transfer.terminal) == ("COMPENSATED", "COMPENSATION", True)
    assert _core_balances() == before
    refund = Posting.objects.using("core").get(idempotency_key=f"refund-{transaction_id}")
    assert (refund.account_id, refund.type, refund.amount) == (PAYER_ACCOUNT, "TRANSFER_REFUND", 10_000)
    assert len(mail.outbox) == 1 and "返金" in mail.outbox[0].subject
    assert _violations() == {}


def test_scenario_5_voided_deposit_key_refuses_the_late_request(core_db, core_faults, payer, payee, transfer_post,
                                                                saga_drain, api_client_for, staff_user):
    # given every deposit times out (ambiguous) until the deposit row dead-letters
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    transaction_id = _accept(transfer_post, payer)
    core_faults.set(group="transactions", timeout_rate=1.0, hang_seconds=0.05)
    from outbox import relay

    relay.drain(queue="core")  # the withdraw attempt times out too: let it through first
    core_faults.reset()
    relay.drain(queue="core")
    assert Transfer.objects.get().phase in ("DEPOSIT_REQUESTED",)
    core_faults.set(group="transactions", timeout_rate=1.0, hang_seconds=0.05)
    saga_drain()
    assert OutboxMessage.objects.get(key=f"deposit-{transaction_id}").status == OutboxStatus.FAILED
    core_faults.reset()
    # when the operator compensates (voiding deposit-{id}) and a late deposit with the key arrives
    staff_user.user_permissions.add(Permission.objects.get(codename="compensate_transfer"))
    client = APIClient()
    client.force_login(staff_user)
    assert client.post(f"/v1/admin/transfers/{transaction_id}/compensate").json()["outcome"] == "voided"
    late = core_client.deposit(account_id=PAYEE_ACCOUNT, amount=10_000, description="late",
                               source_account_id=PAYER_ACCOUNT, transfer_id=transaction_id,
                               idempotency_key=f"deposit-{transaction_id}")
    saga_drain()
    # then the late request is refused (409), the payee was never credited, the payer is refunded
    assert late.http_status == 409
    assert not Posting.objects.using("core").filter(idempotency_key=f"deposit-{transaction_id}").exists()
    assert Transfer.objects.get().status == "COMPENSATED"
    balances = _core_balances()
    assert balances[PAYEE_ACCOUNT] == OPENING_YEN and balances[PAYER_ACCOUNT] == OPENING_YEN
    assert _violations() == {}
