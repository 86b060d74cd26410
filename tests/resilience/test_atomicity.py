"""E16 (resilience/atomicity.py): processes killed inside command and result transactions leave no event
without its outbox row, no outbox row without its event and no read-model drift; the checks do catch each fault."""
from __future__ import annotations

import json
import os

import pytest
from django.db import transaction
from django.db.models import F

from resilience import atomicity


@pytest.fixture
def e16_world(transactional_db):
    """The E16 customers (funded read-model accounts), with the after-commit nudges switched off."""
    with atomicity.NudgesOff():
        yield atomicity.world_seed(customers=3)


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
    checked = atomicity.consistency_check()
    # then nothing is missing and nothing drifted
    assert (checked["events_without_outbox"], checked["outbox_without_event"], checked["read_model_drift"]) == (0, 0, 0)


def test_consistency_check_counts_an_event_without_its_outbox_row_when_the_row_is_lost(e16_world):
    # given a transfer whose withdraw row disappeared (what a non-atomic write could leave)
    from outbox.models import OutboxMessage

    transaction_id = _transfer(e16_world)
    OutboxMessage.objects.filter(key=f"withdraw-{transaction_id}").delete()
    # when the state is checked
    checked = atomicity.consistency_check()
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
    checked = atomicity.consistency_check()
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
    checked = atomicity.consistency_check()
    # then both are drift (I8 / rebuild for the row, ledger != Σ postings for the balance)
    assert checked["read_model_drift"] >= 2
    assert any("ledger" in line for line in checked["examples"]["read_model_drift"])


@pytest.mark.postgres
def test_e16_leaves_no_half_written_transaction_when_children_are_killed_at_random_statements(e16_world):
    # when 20 operations are killed at random statements (and most of them retried to commit)
    result = atomicity.atomicity_runs(runs=20, seed=20251125)
    metrics = result["metrics"]
    # then every run was killed inside its transaction and nothing half-written survived
    assert metrics["kills"] == metrics["outcomes"]["killed"] >= 15, metrics["errors"]
    assert sum(metrics["kills_by_operation"].values()) == metrics["kills"]
    assert metrics["events_without_outbox"] == 0
    assert metrics["outbox_without_event"] == 0
    assert metrics["read_model_drift"] == 0
    assert not any(metrics["invariant_violations"].values()), metrics["examples"]
    # and the runs moved the state on (later runs had rows to claim and settle)
    assert metrics["state"]["events"] > 0 and metrics["state"]["outbox_rows"] > 0
    json.dumps(result)


@pytest.mark.postgres
def test_e16_atomicity_runs_in_its_own_databases_when_called_by_the_harness(tmp_path):
    # when the harness entry point runs a short experiment against its own, temporary databases
    result = atomicity.e16_atomicity(runs=10, out_dir=tmp_path, db_prefix=f"bench_e16_t{os.getpid()}",
                                     keep_databases=False, seed=3)
    metrics = result["metrics"]
    # then it reports the three counts at zero, the kills, and writes its JSON
    assert "error" not in metrics, result["notes"]
    assert metrics["runs"] == 10 and metrics["kills"] >= 8
    assert (metrics["events_without_outbox"], metrics["outbox_without_event"], metrics["read_model_drift"]) == (0, 0, 0)
    assert json.loads((tmp_path / "e16.json").read_text())["metrics"]["runs"] == 10
