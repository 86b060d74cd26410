"""The read model imports core postings once, keeps answering while core is down, and catches up after."""
import datetime as dt

import pytest
from django.utils import timezone

from balance.models import AccountBalance, TransactionEntry
from balance.services import account_balance_open, account_reconcile, account_sync_from_core, accounts_sync_all
from outbox.core_banking import client as core_client

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "core"])
ACCOUNT = "0011234567"  # seeded: 10,000,000 yen from three postings (api.md §6.3)


@pytest.fixture
def synced_demo_account(core_db, core_server):
    account_balance_open(account_id=ACCOUNT, customer_id="CUST001")
    account_balance_open(account_id="0017654321", customer_id="CUST002")
    return core_server


def test_sync_imports_each_core_posting_once_when_run_twice(synced_demo_account):
    # when
    first = account_sync_from_core(account_id=ACCOUNT)
    second = account_sync_from_core(account_id=ACCOUNT)
    # then the three seeded postings are imported once and the ledger equals core's balance
    assert (first.ok, first.imported) == (True, 3)
    assert (second.ok, second.imported) == (True, 0)
    account = AccountBalance.objects.get(account_id=ACCOUNT)
    assert account.ledger_balance == 10_000_000 == account.core_balance
    assert TransactionEntry.objects.filter(account_id=ACCOUNT).count() == 3
    entry = TransactionEntry.objects.get(core_transaction_id="TXN001")
    assert (entry.amount, entry.type, entry.source_account_id, entry.transfer_id) == (
        20_000_000, "TRANSFER_DEPOSIT", "9999999", "TRF001")


def test_sync_pages_through_more_postings_than_one_feed_page(synced_demo_account, monkeypatch):
    # given 7 new core postings and a feed page of 2
    from balance import services

    monkeypatch.setattr(services, "FEED_PAGE_SIZE", 2)
    for n in range(7):
        assert core_client.deposit(account_id=ACCOUNT, amount=100 + n, description="ATM入金", source_account_id="",
                                   transfer_id="", idempotency_key=f"test-page-{n}",
                                   transaction_type="ATM_DEPOSIT").ok
    # when
    result = account_sync_from_core(account_id=ACCOUNT)
    # then all 3 seeded + 7 new postings arrive
    assert (result.ok, result.imported) == (True, 10)
    assert AccountBalance.objects.get(account_id=ACCOUNT).ledger_balance == 10_000_000 + sum(100 + n for n in range(7))


def test_sync_catches_a_posting_older_than_the_newest_imported_one(synced_demo_account):
    # given a first sync, then a posting that committed late with an older timestamp (inside the overlap)
    account_sync_from_core(account_id=ACCOUNT)
    from corebanking_mock.models import Account, Posting

    Posting.objects.create(transaction_id="LATE0001", account=Account.objects.get(pk=ACCOUNT), type="ATM_DEPOSIT",
                           amount=500, description="ATM入金", timestamp=timezone.now() - dt.timedelta(seconds=30),
                           processed_at=timezone.now())
    Account.objects.filter(pk=ACCOUNT).update(balance=10_000_500)
    AccountBalance.objects.filter(account_id=ACCOUNT).update(core_cursor_at=timezone.now())
    # when
    result = account_sync_from_core(account_id=ACCOUNT)
    # then
    assert result.imported == 1
    assert AccountBalance.objects.get(account_id=ACCOUNT).ledger_balance == 10_000_500


def test_balance_keeps_answering_stale_while_core_down_and_catches_up_after(
        synced_demo_account, core_faults, api_client_for, make_user, settings):
    # given a synced account, its owner, and then core going down
    user = make_user("user001x", public_id="USER001X", customer_id="CUST001", primary_account_id=ACCOUNT)
    account_sync_from_core(account_id=ACCOUNT)
    core_faults.set(mode="down")
    AccountBalance.objects.filter(account_id=ACCOUNT).update(
        core_synced_at=timezone.now() - dt.timedelta(seconds=settings.BALANCE_STALE_AFTER_SECONDS + 1))
    # when the sync runs during the outage
    during = accounts_sync_all()
    response = api_client_for(user).get(f"/v1/api/balance?accountId={ACCOUNT}")
    # then nothing changed, the balance route still answers, marked stale
    assert not any(result.ok for result in during)
    assert response.status_code == 200
    assert response.json()["balance"] == 10_000_000
    assert response.json()["stale"] is True
    # when core returns with a posting made meanwhile
    core_faults.set(mode="up")
    assert core_client.deposit(account_id=ACCOUNT, amount=2500, description="ATM入金", source_account_id="",
                               transfer_id="", idempotency_key="test-after-outage", transaction_type="ATM_DEPOSIT").ok
    after = account_sync_from_core(account_id=ACCOUNT)
    # then the read model catches up and is fresh again
    body = api_client_for(user).get(f"/v1/api/balance?accountId={ACCOUNT}").json()
    assert after.imported == 1
    assert body["balance"] == 10_002_500
    assert body["stale"] is False


def test_reconcile_reports_match_drift_and_skips_accounts_with_legs_in_flight(synced_demo_account):
    # given a synced account
    account_sync_from_core(account_id=ACCOUNT)
    # then it matches core
    assert account_reconcile(account_id=ACCOUNT).outcome == "match"
    # when the ledger is wrong (a bug or a manual edit), the drift is reported and not rewritten
    AccountBalance.objects.filter(account_id=ACCOUNT).update(ledger_balance=9_999_000)
    run = account_reconcile(account_id=ACCOUNT)
    assert (run.outcome, run.drift) == ("drift", 1000)
    assert AccountBalance.objects.get(account_id=ACCOUNT).ledger_balance == 9_999_000
    # and an account with money on hold is skipped
    AccountBalance.objects.filter(account_id=ACCOUNT).update(pending_debits=500)
    assert account_reconcile(account_id=ACCOUNT).outcome == "skipped"


def test_reconcile_reports_unreachable_core(synced_demo_account, core_faults):
    account_sync_from_core(account_id=ACCOUNT)
    core_faults.set(mode="down")
    assert account_reconcile(account_id=ACCOUNT).outcome == "unreachable"
