"""Customer status (R29), staff timeline with time travel (api.md §3.3, R10, R11), abort/compensate (R26, R27)."""
import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from outbox.eventstore.models import Event
from outbox.eventstore.selectors import aggregate_load
from outbox.eventstore.services import projections_rebuild
from outbox.models import OutboxMessage, OutboxStatus
from tests.fixtures.transfers import OPENING_YEN, PAYER_ACCOUNT, core_ambiguous, transfer_body
from transfers.models import Transfer, TransferOperatorAction
from transfers.projections import transfer_state_of_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff_user):
    for codename in ("abort_transfer", "compensate_transfer"):
        staff_user.user_permissions.add(Permission.objects.get(codename=codename))
    client = APIClient()
    client.force_login(staff_user)
    return client


def _accept(transfer_post, payer, amount=10_000):
    response = transfer_post(payer, transfer_body(amount))
    assert response.status_code == 202
    return response.json()["transactionId"]


def test_status_shows_progress_to_the_payer_only(payer, payee, transfer_post, saga_drain, mock_core, api_client_for):
    transaction_id = _accept(transfer_post, payer)
    early = api_client_for(payer).get(f"/v1/api/transfers/{transaction_id}")
    assert early.status_code == 200
    assert {k: early.json()[k] for k in ("status", "leg", "terminal")} == {
        "status": "WITHDRAW_REQUESTED", "leg": "WITHDRAW", "terminal": False}
    saga_drain()
    done = api_client_for(payer).get(f"/v1/api/transfers/{transaction_id}").json()
    assert (done["status"], done["leg"], done["terminal"]) == ("completed", "DEPOSIT", True)
    assert "lastUpdated" in done
    assert api_client_for(payee).get(f"/v1/api/transfers/{transaction_id}").status_code == 404
    assert api_client_for(payer).get("/v1/api/transfers/" + "0" * 32).status_code == 404


def test_timeline_keeps_the_viewer_shape_and_travels_in_time(payer, payee, transfer_post, saga_drain, mock_core,
                                                             staff_client):
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    response = staff_client.get(f"/v1/admin/transfer-events/{transaction_id}")
    assert response.status_code == 200
    body = response.json()
    assert [(e["version"], e["type"], e["leg"]) for e in body["events"]][:2] == [
        (1, "TransferRequested", None), (2, "WithdrawRequested", "WITHDRAW")]
    first = body["events"][0]
    assert set(first) >= {"type", "status", "timestamp", "formattedTimestamp", "payload", "processHistory",
                          "version", "leg"}
    history = first["processHistory"]
    assert [(h["status"], h["type"]) for h in history][:7] == [
        ("RECEIVED", "TransferRequested"), ("WITHDRAW_REQUESTED", "WITHDRAW_REQUESTED"),
        ("processing", "PROCESSING_STARTED"), ("completed", "WITHDRAW_PROCESSED"),
        ("DEPOSIT_REQUESTED", "DEPOSIT_REQUESTED"), ("processing", "PROCESSING_STARTED"),
        ("completed", "DEPOSIT_PROCESSED")]
    assert history[1]["outboxRecordId"] == f"withdraw-{transaction_id}"
    assert history[0]["details"] == {"sourceAccountId": PAYER_ACCOUNT, "targetAccountId": "0017654321",
                                     "amount": 10_000}
    assert body["summary"]["totalEvents"] == 8 and body["summary"]["status"] == "completed"
    # time travel: as of the second event, two events and the folded state then
    second = Event.objects.get(aggregate_id=f"transfer-{transaction_id}", version=2)
    as_of = (second.recorded_at + dt.timedelta(microseconds=1)).isoformat()
    past = staff_client.get(f"/v1/admin/transfer-events/{transaction_id}", {"asOf": as_of}).json()
    assert [e["version"] for e in past["events"]] == [1, 2]
    assert (past["summary"]["status"], past["summary"]["leg"]) == ("WITHDRAW_REQUESTED", "WITHDRAW")
    # exact match only, and customers/anonymous are refused
    assert staff_client.get(f"/v1/admin/transfer-events/{transaction_id[:5]}").json() == {
        "error": "Transfer events not found"}
    assert APIClient().get(f"/v1/admin/transfer-events/{transaction_id}").status_code == 401


def test_timeline_shows_a_rejection(payer, payee, transfer_post, mock_core, staff_client, settings):
    settings.TRANSFER_MAX_AMOUNT = 10 * OPENING_YEN
    response = transfer_post(payer, transfer_body(OPENING_YEN + 1))
    transaction_id = response.json()["transactionId"]
    body = staff_client.get(f"/v1/admin/transfer-events/{transaction_id}").json()
    assert body["events"][0]["status"] == "REJECTED"
    assert body["events"][0]["processHistory"][0]["type"] == "TransferRejected"
    assert body["summary"]["status"] == "REJECTED"


def test_abort_voids_a_dead_lettered_withdrawal_and_is_safe_twice(payer, payee, transfer_post, saga_drain, mock_core,
                                                                  staff_client):
    # given the withdraw leg dead-lettered after ambiguous answers
    mock_core.script["withdraw"] = [core_ambiguous()] * 10
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    assert OutboxMessage.objects.get(key=f"withdraw-{transaction_id}").status == OutboxStatus.FAILED
    # when the operator aborts (twice)
    first = staff_client.post(f"/v1/admin/transfers/{transaction_id}/abort")
    second = staff_client.post(f"/v1/admin/transfers/{transaction_id}/abort")
    saga_drain()
    # then
    assert first.status_code == 200 and first.json()["outcome"] == "voided"
    assert second.status_code == 200 and second.json()["outcome"] == "noop"
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.terminal) == ("failed", True)
    assert OutboxMessage.objects.get(key=f"withdraw-{transaction_id}").status == OutboxStatus.COMPLETED
    failed = Event.objects.get(aggregate_id=transfer.aggregate_id, type="TransferFailed")
    assert failed.metadata["actor"].startswith("admin:")
    assert list(TransferOperatorAction.objects.order_by("id").values_list("action", "outcome")) == [
        ("abort", "voided"), ("abort", "noop")]
    assert payer.pk and transfer.amount == 10_000


def test_abort_continues_with_the_deposit_when_core_had_applied_the_withdrawal(payer, payee, transfer_post, saga_drain,
                                                                              mock_core, staff_client):
    from outbox.core_banking.client import CoreResult, Outcome

    mock_core.script["withdraw"] = [core_ambiguous()] * 10
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    mock_core.script["idempotency_void"] = [CoreResult(
        outcome=Outcome.DEFINITE, http_status=409, error="applied", replayed=False, elapsed_ms=1,
        body={"state": "applied", "statusCode": 200, "response": {
            "transactionId": "WTH77", "amount": 10_000, "timestamp": "2025-09-18T00:50:16.020Z"}})]
    response = staff_client.post(f"/v1/admin/transfers/{transaction_id}/abort")
    saga_drain()
    assert response.json()["outcome"] == "applied"
    assert Transfer.objects.get().status == "completed"


def test_abort_refuses_while_the_leg_is_in_flight_and_needs_the_permission(payer, payee, transfer_post, mock_core,
                                                                           staff_client, make_user):
    transaction_id = _accept(transfer_post, payer)
    assert staff_client.post(f"/v1/admin/transfers/{transaction_id}/abort").status_code == 409
    plain_staff = make_user("staff902", is_staff=True)
    client = APIClient()
    client.force_login(plain_staff)
    assert client.post(f"/v1/admin/transfers/{transaction_id}/abort").status_code == 403


def test_compensate_refunds_a_dead_lettered_deposit(payer, payee, transfer_post, saga_drain, mock_core, staff_client):
    mock_core.script["deposit"] = [core_ambiguous()] * 10
    transaction_id = _accept(transfer_post, payer)
    saga_drain()
    assert OutboxMessage.objects.get(key=f"deposit-{transaction_id}").status == OutboxStatus.FAILED
    first = staff_client.post(f"/v1/admin/transfers/{transaction_id}/compensate")
    saga_drain()
    second = staff_client.post(f"/v1/admin/transfers/{transaction_id}/compensate")
    assert (first.json()["outcome"], second.json()["outcome"]) == ("voided", "noop")
    assert Transfer.objects.get().status == "COMPENSATED"


def test_rebuild_gives_the_incremental_projection(payer, payee, transfer_post, saga_drain, mock_core):
    for amount in (1000, 2000, 3000):
        _accept(transfer_post, payer, amount)
    saga_drain()
    before = {row.aggregate_id: transfer_state_of_row(row) for row in Transfer.objects.all()}
    projections_rebuild(names=["transfers.transfer_row"])
    after = {row.aggregate_id: transfer_state_of_row(row) for row in Transfer.objects.all()}
    assert after == before
    for aggregate_id, state in after.items():
        assert aggregate_load(aggregate_id=aggregate_id).state == state
