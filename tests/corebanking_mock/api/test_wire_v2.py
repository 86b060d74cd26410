"""The mock's wire v2 (corebanking_mock/wire_versions.py): same routes and behaviour, renamed JSON fields both ways;
the fault-control routes keep their own names."""
import pytest

from corebanking_mock.models import Account
from corebanking_mock.wire_versions import V1_TO_V2, V2_TO_V1, renamed

pytestmark = pytest.mark.django_db(databases=["default", "core"])

SOURCE, TARGET = "0011234567", "0017654321"


def test_renamed_maps_keys_at_every_depth_and_back():
    # given a v1 answer with a nested list and a nested stored answer
    v1 = {"accountId": "A", "transactions": [{"transactionId": "T", "amount": -5, "type": "ATM"}],
          "response": {"status": "COMPLETED", "newBalance": 10}, "error": "kept"}
    # when it is renamed to v2 and back
    v2 = renamed(v1, V1_TO_V2)
    # then every known key is renamed, unknown keys and values are untouched, and the way back restores it
    assert v2 == {"account_ref": "A", "postings": [{"posting_ref": "T", "amount_yen": -5, "type": "ATM"}],
                  "answer": {"lifecycle": "COMPLETED", "balance_after_yen": 10}, "error": "kept"}
    assert renamed(v2, V2_TO_V1) == v1
    assert len(V2_TO_V1) == len(V1_TO_V2)


def test_withdrawal_spoken_in_v2_moves_money_and_answers_in_v2_when_the_mock_runs_v2(core_api, core_db, settings):
    # given the mock on wire v2
    settings.CORE_MOCK_WIRE = "v2"
    # when a withdrawal is sent with the v2 field names
    response = core_api.post("/api/transactions/withdraw", {
        "account_ref": SOURCE, "amount_yen": 10_000, "description": "v2", "posting_type": "TRANSFER_WITHDRAWAL",
        "target_account_ref": TARGET, "transfer_ref": "TRX-V2"}, idempotency_key="withdraw-TRX-V2")
    # then it took effect and the answer uses only v2 names
    body = response.json()
    assert response.status_code == 200, body
    assert (body["account_ref"], body["amount_yen"], body["lifecycle"], body["balance_after_yen"]) == (
        SOURCE, 10_000, "COMPLETED", 9_990_000)
    assert not set(body) & set(V1_TO_V2)
    assert Account.objects.get(pk=SOURCE).balance == 9_990_000
    # and the stored answer is given back in v2 names too
    record = core_api.get("/api/idempotency/withdraw-TRX-V2").json()
    assert record["answer_status"] == 200 and record["answer"]["posting_ref"] == body["posting_ref"]


def test_v1_field_names_are_refused_when_the_mock_runs_v2(core_api, core_db, settings):
    # given the mock on wire v2
    settings.CORE_MOCK_WIRE = "v2"
    # when a client still sends v1 names
    response = core_api.post("/api/transactions/withdraw", {
        "accountId": SOURCE, "amount": 10_000, "description": "v1", "transactionType": "TRANSFER_WITHDRAWAL",
        "targetAccountId": TARGET, "transferId": "TRX-V1"}, idempotency_key="withdraw-TRX-V1")
    # then the request is invalid (no money moves)
    assert response.status_code == 400
    assert Account.objects.get(pk=SOURCE).balance == 10_000_000
