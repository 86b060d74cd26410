"""Staff view of an account as of a past time: balance and postings rebuilt from the postings."""
import datetime as dt

import pytest
from django.utils import timezone

from balance.selectors import account_as_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_with_history(open_account, post_entry):
    """Opening credit 10 days ago, a withdrawal 5 days ago, a deposit 1 day ago."""
    account = open_account("0019000007", "CUST907")
    now = timezone.now()
    post_entry(account, 1_000_000, type="OPENING_CREDIT", at=now - dt.timedelta(days=10), core_transaction_id="P1")
    post_entry(account, -30_000, type="TRANSFER_WITHDRAWAL", at=now - dt.timedelta(days=5), core_transaction_id="P2")
    post_entry(account, 5_000, type="ATM_DEPOSIT", at=now - dt.timedelta(days=1), core_transaction_id="P3")
    return account, now


def test_balance_as_of_sums_the_postings_dated_up_to_that_time(account_with_history):
    account, now = account_with_history
    assert account_as_of(account_id=account.account_id, as_of=now - dt.timedelta(days=11)).balance == 0
    assert account_as_of(account_id=account.account_id, as_of=now - dt.timedelta(days=7)).balance == 1_000_000
    three_days_ago = account_as_of(account_id=account.account_id, as_of=now - dt.timedelta(days=3))
    assert three_days_ago.balance == 970_000
    assert [p.entry.core_transaction_id for p in three_days_ago.postings] == ["P2", "P1"]
    assert [p.balance_after for p in three_days_ago.postings] == [970_000, 1_000_000]
    # and as of now it equals the read model's ledger balance
    assert account_as_of(account_id=account.account_id, as_of=now).balance == account.ledger_balance == 975_000


def test_account_page_shows_balance_and_postings_as_of_the_chosen_time(client, make_user, account_with_history):
    # given a staff member who may view balances
    from django.contrib.auth.models import Permission

    account, now = account_with_history
    staff = make_user("staff907", password="staff-pass-0123456789", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_accountbalance"))
    client.force_login(staff)
    url = f"/admin/balance/accountbalance/{account.pk}/change/"
    # when the page is opened as of three days ago (a Japan-time value, as the form's text box sends it)
    past = timezone.localtime(now - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    page = client.get(url, {"as_of": past}).content.decode()
    # then the balance and the postings are those of that time
    assert '<span data-testid="balance-as-of">¥970,000</span>' in page
    assert "P2" in page and "P1" in page and "P3" not in page
    # and without a time the page shows now
    current = client.get(url).content.decode()
    assert '<span data-testid="balance-as-of">¥975,000</span>' in current and "P3" in current
