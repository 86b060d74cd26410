"""E16's checks (resilience/atomicity/checks.py): a transaction committed whole leaves nothing behind, and the
checks do catch each fault (an event without its outbox row, an outbox row without its event, read-model drift)."""
from __future__ import annotations

from django.db import transaction
from django.db.models import F

from resilience.atomicity.checks import consistency_check


def _transfer(account_ids: list[str]) -> str:
    from django.contrib.auth import get_user_model

    from transfers.services import transfer_request

    user = get_user_model().objects.get(primary_account_id=account_ids[0])
    answer = transfer_request(user=user, body={"sourceAccountId": account_ids[0], "targetAccountId": account_ids[1],
                                               "amount": 1000}, idempotency_key=None)
    return answer.body["transactionId"]


def test_consistency_check_finds_nothing_when_a_transfer_committed_whole(e16_world):
    # given a transfer accepted through the service (events, hold, withdraw row in one transaction)
    _transfer(e16_world)
    # when the state is checked
    checked = consistency_check()
    # then nothing is missing and nothing drifted
    assert (checked["events_without_outbox"], checked["outbox_without_event"], checked["read_model_drift"]) == (0, 0, 0)


def test_consistency_check_counts_an_event_without_its_outbox_row_when_the_row_is_lost(e16_world):
    # given a transfer whose withdraw row disappeared (what a non-atomic write could leave)
    from outbox.models import OutboxMessage

    transaction_id = _transfer(e16_world)
    OutboxMessage.objects.filter(key=f"withdraw-{transaction_id}").delete()
    # when the state is checked
    checked = consistency_check()
    # then the WithdrawRequested event is reported without its row
    assert checked["events_without_outbox"] == 1
    assert f"withdraw-{transaction_id}" in checked["examples"]["events_without_outbox"][0]


def test_consistency_check_counts_an_outbox_row_without_its_event_when_one_is_enqueued_alone(e16_world):
    # given a transfer and a deposit row enqueued without the DepositRequested event
    from outbox.services import outbox_enqueue

    transaction_id = _transfer(e16_world)
    with transaction.atomic():
        outbox_enqueue(key=f"deposit-{transaction_id}", kind="deposit", aggregate_id=f"transfer-{transaction_id}",
                       event_version=4, event_type="DepositRequested", payload={"transactionId": transaction_id})
    # when the state is checked
    checked = consistency_check()
    # then that row is reported without its event
    assert checked["outbox_without_event"] == 1
    assert checked["events_without_outbox"] == 0


def test_consistency_check_counts_drift_when_a_read_model_row_differs_from_the_events(e16_world):
    # given a transfer whose projection row and source hold were changed behind the services' back
    from balance.models import AccountBalance
    from transfers.models import Transfer

    _transfer(e16_world)
    Transfer.objects.update(amount=F("amount") + 1)
    AccountBalance.objects.filter(account_id=e16_world[0]).update(ledger_balance=F("ledger_balance") + 5)
    # when the state is checked
    checked = consistency_check()
    # then both are drift (I8 / rebuild for the row, ledger != Σ postings for the balance)
    assert checked["read_model_drift"] >= 2
    assert any("ledger" in line for line in checked["examples"]["read_model_drift"])
