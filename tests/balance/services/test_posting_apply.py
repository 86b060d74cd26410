"""posting_apply records a posting once and moves the ledger once; the DB refuses a negative ledger."""
import pytest
from django.db import IntegrityError, transaction

from balance.models import AccountBalance, TransactionEntry

pytestmark = pytest.mark.django_db


def test_posting_applies_once_when_delivered_twice(open_account, post_entry):
    # given
    account = open_account("0019000001", "CUST901")
    # when the same core posting arrives twice (sync and a transfer leg settle)
    first = post_entry(account, 7000, core_transaction_id="DEP123")
    second = post_entry(account, 7000, core_transaction_id="DEP123")
    # then it is recorded and counted once
    assert (first, second) == (True, False)
    assert TransactionEntry.objects.filter(core_transaction_id="DEP123").count() == 1
    assert AccountBalance.objects.get(pk=account.pk).ledger_balance == 7000


def test_database_refuses_negative_ledger_when_service_bypassed(open_account):
    account = open_account("0019000001", "CUST901")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountBalance.objects.filter(pk=account.pk).update(ledger_balance=-1)


def test_database_refuses_zero_amount_entry(open_account, post_entry):
    account = open_account("0019000001", "CUST901")
    with pytest.raises(IntegrityError), transaction.atomic():
        post_entry(account, 0)
