"""`manage.py seed_core`: the demo data of api.md §6.3, safe to run many times."""
import pytest
from django.core.management import call_command
from django.db.models import Sum

from corebanking_mock.models import Account, Customer, Posting

pytestmark = pytest.mark.django_db(databases=["default", "core"])


def test_seed_creates_the_demo_data_when_the_core_is_empty():
    # when
    call_command("seed_core")
    # then
    assert list(Customer.objects.values_list("customer_id", "last_name", "first_name", "name")) == [
        ("CUST001", "キンユウ", "リファレンスアーキテクチャ", ""), ("CUST002", "モダン", "アプリケーション", "")]
    assert list(Account.objects.values_list("account_id", "customer_id", "balance", "branch_name")) == [
        ("0011234567", "CUST001", 10_000_000, "オンラインバンキング支店"),
        ("0017654321", "CUST002", 10_000_000, "オンラインバンキング支店")]
    assert sorted(Posting.objects.values_list("transaction_id", flat=True)) == [f"TXN00{i}" for i in range(1, 6)]


def test_seeded_postings_sum_to_each_seeded_balance_when_seeded():
    # when
    call_command("seed_core")
    # then
    for account in Account.objects.all():
        assert Posting.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] == account.balance


def test_seed_changes_nothing_when_run_again_after_money_moved():
    # given
    call_command("seed_core")
    Account.objects.filter(pk="0011234567").update(balance=1)
    # when
    call_command("seed_core")
    call_command("seed_core")
    # then
    assert (Customer.objects.count(), Account.objects.count(), Posting.objects.count()) == (2, 2, 5)
    assert Account.objects.get(pk="0011234567").balance == 1
