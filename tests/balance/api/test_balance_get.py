"""GET /v1/api/balance?accountId= — api.md §2.3 field by field, owner-only, read model only."""
import datetime as dt
import re

import pytest
from django.utils import timezone

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
pytestmark = pytest.mark.django_db


@pytest.fixture
def owned_account(open_account, post_entry, customer_user):
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    base = timezone.now() - dt.timedelta(days=30)
    post_entry(account, 20_000_000, type="TRANSFER_DEPOSIT", at=base, source_account_id="9999999", transfer_id="TRF001",
               description="振込による入金")
    for day in range(1, 13):
        post_entry(account, -1000 * day, type="ATM_WITHDRAWAL", at=base + dt.timedelta(days=day))
    account.refresh_from_db()
    return account


def test_balance_answers_original_shape_when_owner_asks(api_client_for, customer_user, owned_account):
    # given the owner's token
    client = api_client_for(customer_user)
    # when
    response = client.get(f"/v1/api/balance?accountId={owned_account.account_id}")
    # then every field of §2.3 has its type
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == 20_000_000 - sum(1000 * d for d in range(1, 13))
    assert isinstance(body["balance"], int)
    assert ISO_MS.match(body["lastUpdated"])
    assert body["transactionCount"] == 13
    assert body["accountInfo"] == {"accountId": owned_account.account_id, "accountType": "SAVINGS",
                                   "currency": "JPY", "status": "ACTIVE"}
    recent = body["recentTransactions"]
    assert len(recent) == 10
    timestamps = [item["timestamp"] for item in recent]
    assert timestamps == sorted(timestamps, reverse=True), "newest first"
    assert recent[0]["amount"] == -12_000 and isinstance(recent[0]["amount"], int)
    assert body["stale"] is True, "never synced with core"
    assert body["availableBalance"] == body["balance"]


def test_balance_is_404_without_data_when_account_belongs_to_another_customer(
        api_client_for, other_customer_user, owned_account):
    response = api_client_for(other_customer_user).get(f"/v1/api/balance?accountId={owned_account.account_id}")
    assert response.status_code == 404
    assert response.json() == {"message": "口座が見つかりません。口座番号をご確認ください。"}


def test_balance_is_404_when_account_unknown(api_client_for, customer_user, owned_account):
    response = api_client_for(customer_user).get("/v1/api/balance?accountId=0010000000")
    assert response.status_code == 404
    assert "balance" not in response.json()


def test_balance_is_400_when_account_id_missing(api_client_for, customer_user, owned_account):
    response = api_client_for(customer_user).get("/v1/api/balance")
    assert response.status_code == 400
    assert response.json() == {"message": "accountId is required as query parameter"}


@pytest.mark.parametrize("raw", ["001123456", "00112345678", "abcdefghij", "0011234567%00"])
def test_balance_is_400_when_account_id_malformed(api_client_for, customer_user, owned_account, raw):
    response = api_client_for(customer_user).get(f"/v1/api/balance?accountId={raw}")
    assert response.status_code == 400
    assert response.json()["message"] == "accountId must be a 10-digit account number"


def test_balance_is_401_without_token(api_client, owned_account):
    response = api_client.get(f"/v1/api/balance?accountId={owned_account.account_id}")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_balance_is_not_stale_after_recent_core_sync(api_client_for, customer_user, owned_account, settings):
    # given a sync just now
    from balance.models import AccountBalance

    AccountBalance.objects.filter(pk=owned_account.pk).update(core_synced_at=timezone.now())
    # then
    body = api_client_for(customer_user).get(f"/v1/api/balance?accountId={owned_account.account_id}").json()
    assert body["stale"] is False
    # and when the sync is older than the threshold, the answer says so
    AccountBalance.objects.filter(pk=owned_account.pk).update(
        core_synced_at=timezone.now() - dt.timedelta(seconds=settings.BALANCE_STALE_AFTER_SECONDS + 5))
    body = api_client_for(customer_user).get(f"/v1/api/balance?accountId={owned_account.account_id}").json()
    assert body["stale"] is True
