"""Statement budget of a posting (issue 17: the core mock ≤ 4 statements per posting on PostgreSQL).

Counted on the core connection for one whole request through the core URLconf, fault-knob read included.
The test runs inside a transaction, so the posting's own transaction shows as SAVEPOINT … RELEASE: exactly
where production sends BEGIN … COMMIT, so the count is the production round-trip count.
"""
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from corebanking_mock.models import Account, IdempotencyRecord, Posting

pytestmark = pytest.mark.django_db(databases=["default", "core"])

SOURCE, TARGET = "0011234567", "0017654321"
POSTINGS = [
    pytest.param("/api/transactions/withdraw", {"accountId": SOURCE, "amount": 1_000,
                                                "transactionType": "TRANSFER_WITHDRAWAL",
                                                "targetAccountId": TARGET, "transferId": "TRX-1"},
                 SOURCE, -1_000, id="withdraw"),
    pytest.param("/api/transactions/deposit", {"accountId": TARGET, "amount": 1_000,
                                               "transactionType": "TRANSFER_DEPOSIT",
                                               "sourceAccountId": SOURCE, "transferId": "TRX-1"},
                 TARGET, 1_000, id="deposit"),
]


def _post_counting(core_api, path: str, body: dict, key: str):
    with CaptureQueriesContext(connections["core"]) as core, CaptureQueriesContext(connections["default"]) as bank:
        response = core_api.post(path, body, idempotency_key=key)
    return response, [query["sql"] for query in core.captured_queries], bank.captured_queries


def _assert_applied_once(response, *, account_id: str, delta_yen: int, key: str) -> None:
    assert response.status_code == 200, response.content
    assert Account.objects.get(pk=account_id).balance == 10_000_000 + delta_yen
    posting = Posting.objects.get(idempotency_key=key)
    assert (posting.transaction_id, posting.amount) == (response.json()["transactionId"], delta_yen)
    record = IdempotencyRecord.objects.get(pk=key)
    assert (record.state, record.status_code, record.response_body) == ("applied", 200, response.json())


@pytest.mark.postgres
@pytest.mark.parametrize("path, body, account_id, delta_yen", POSTINGS)
def test_fresh_key_posting_takes_at_most_4_statements_on_postgresql(core_api, core_db, path, body, account_id,
                                                                    delta_yen):
    # when
    response, statements, bank_statements = _post_counting(core_api, path, body, key="budget-1")
    # then: fault knobs, BEGIN, the posting statement, COMMIT
    assert len(statements) <= 4, "\n".join(statements)
    assert bank_statements == []
    _assert_applied_once(response, account_id=account_id, delta_yen=delta_yen, key="budget-1")


@pytest.mark.parametrize("path, body, account_id, delta_yen", POSTINGS)
def test_fresh_key_posting_takes_at_most_6_statements_on_any_database(core_api, core_db, path, body, account_id,
                                                                      delta_yen):
    # when
    response, statements, _ = _post_counting(core_api, path, body, key="budget-2")
    # then: SQLite runs the balance update and the two inserts as separate statements
    assert len(statements) <= 6, "\n".join(statements)
    _assert_applied_once(response, account_id=account_id, delta_yen=delta_yen, key="budget-2")


@pytest.mark.parametrize("path, body, account_id, delta_yen", POSTINGS)
def test_repeat_is_answered_from_the_record_in_a_few_statements_when_the_key_is_known(core_api, core_db, path, body,
                                                                                      account_id, delta_yen):
    # given
    first = core_api.post(path, body, idempotency_key="budget-3")
    # when
    second, statements, _ = _post_counting(core_api, path, body, key="budget-3")
    # then: fault knobs, the lean attempt that matches nothing (BEGIN, statement, COMMIT), the record read
    assert len(statements) <= 5, "\n".join(statements)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    _assert_applied_once(first, account_id=account_id, delta_yen=delta_yen, key="budget-3")
