"""Round trips of GET /v1/api/balance (issue 17: the read path answers with the fewest round trips).

One query checks the token's login session and loads its user, one loads the account with its newest postings
and their count; the read throttle adds its two cache operations (read the history, store it). The answer is
the same as the field-by-field reads it replaced: newest first by (timestamp, id), count capped at 50.
"""
import datetime as dt

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from balance.models import TransactionEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_account(open_account, post_entry, customer_user):
    """60 postings, the last 3 with the same timestamp (the id breaks the tie)."""
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    base = timezone.now() - dt.timedelta(days=90)
    for day in range(57):
        post_entry(account, 1_000 + day, at=base + dt.timedelta(days=day))
    same_time = base + dt.timedelta(days=80)
    for extra in range(3):
        post_entry(account, -(10 + extra), type="TRANSFER_WITHDRAWAL", at=same_time, target_account_id="0017654321",
                   transfer_id=f"TRF-{extra}")
    return account


class _CountingCache:
    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        backend = type(caches["default"])
        for name in ("get", "set", "add", "delete", "get_many", "set_many", "incr", "touch", "has_key"):
            original = getattr(backend, name)

            def counted(self_, *args, _name=name, _original=original, **kwargs):
                self.calls.append(_name)
                return _original(self_, *args, **kwargs)

            monkeypatch.setattr(backend, name, counted)


def test_balance_get_takes_two_queries_and_two_cache_operations_when_the_owner_asks(
        api_client_for, customer_user, busy_account, monkeypatch, settings):
    # given the read throttle on (its default) and a logged-in owner
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "read": "1000/min"}}
    client = api_client_for(customer_user)
    counting = _CountingCache(monkeypatch)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/v1/api/balance?accountId={busy_account.account_id}")
    # then
    assert response.status_code == 200, response.content
    assert len(queries) <= 2, "\n".join(query["sql"] for query in queries.captured_queries)
    assert counting.calls == ["get", "set"]
    newest = list(TransactionEntry.objects.filter(account_id=busy_account.account_id)
                  .order_by("-timestamp", "-id").values_list("core_transaction_id", flat=True)[:10])
    body = response.json()
    assert [item["transactionId"] for item in body["recentTransactions"]] == newest
    assert body["transactionCount"] == 50
    assert body["recentTransactions"][0]["targetInfo"] == "送金先: 0017654321"
    assert body["balance"] == sum(1_000 + day for day in range(57)) - (10 + 11 + 12)


def test_balance_get_answers_an_empty_list_when_the_account_has_no_postings(api_client_for, customer_user,
                                                                            open_account):
    # given
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    client = api_client_for(customer_user)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/v1/api/balance?accountId={account.account_id}")
    # then
    assert response.status_code == 200
    assert len(queries) <= 2
    body = response.json()
    assert (body["recentTransactions"], body["transactionCount"], body["balance"]) == ([], 0, 0)
    assert body["accountInfo"] == {"accountId": account.account_id, "accountType": "SAVINGS", "currency": "JPY",
                                   "status": "ACTIVE"}


def test_balance_get_is_401_at_once_when_the_session_was_logged_out(api_client_for, customer_user, busy_account):
    # given a token whose session has just been ended by logout
    client = api_client_for(customer_user)
    assert client.get(f"/v1/api/balance?accountId={busy_account.account_id}").status_code == 200
    assert client.post("/v1/api/auth/logout").status_code == 200
    # when
    response = client.get(f"/v1/api/balance?accountId={busy_account.account_id}")
    # then
    assert response.status_code == 401
