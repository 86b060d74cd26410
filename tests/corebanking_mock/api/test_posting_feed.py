"""GET /api/accounts/{id}/transactions?since=&afterId=&limit= — the ascending feed the bank's sync pages through."""
import pytest

pytestmark = pytest.mark.django_db(databases=["default", "core"])


def test_feed_lists_postings_oldest_first_after_the_cursor(core_db, core_api):
    # when the whole feed is read from the epoch, two at a time
    first = core_api.get("/api/accounts/0011234567/transactions?since=1970-01-01T00:00:00Z&limit=2").json()
    last = first["transactions"][-1]
    second = core_api.get(f"/api/accounts/0011234567/transactions?since={last['timestamp']}"
                          f"&afterId={last['transactionId']}&limit=2").json()
    # then the seeded postings arrive in ascending order without gaps or repeats
    ids = [item["transactionId"] for item in first["transactions"] + second["transactions"]]
    assert ids == ["TXN001", "TXN002", "TXN003"]


def test_feed_without_since_keeps_the_original_newest_first_list(core_db, core_api):
    body = core_api.get("/api/accounts/0011234567/transactions").json()
    assert [item["transactionId"] for item in body["transactions"]] == ["TXN003", "TXN002", "TXN001"]


@pytest.mark.parametrize("query", ["since=yesterday", "since=1970-01-01T00:00:00Z&limit=0",
                                   "since=1970-01-01T00:00:00Z&limit=1001"])
def test_feed_is_400_when_cursor_invalid(core_db, core_api, query):
    response = core_api.get(f"/api/accounts/0011234567/transactions?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid feed cursor"
