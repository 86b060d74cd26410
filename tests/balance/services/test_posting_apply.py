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


def test_opening_an_account_queues_an_immediate_sync_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    # given a spy in place of the Celery publish
    from balance import tasks
    from balance.services import account_balance_open

    published = []
    monkeypatch.setattr(tasks.sync_account, "apply_async", lambda args, **kwargs: published.append(args))
    # when an account is opened (and again: idempotent)
    with django_capture_on_commit_callbacks(execute=True):
        account_balance_open(account_id="0019000009", customer_id="CUST909")
    with django_capture_on_commit_callbacks(execute=True):
        account_balance_open(account_id="0019000009", customer_id="CUST909")
    # then exactly one sync of that account was published, after commit
    assert published == [("0019000009",)]
