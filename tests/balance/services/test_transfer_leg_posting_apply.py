"""transfer_leg_posting_apply: a leg's posting and hold release in one statement on PostgreSQL (two on SQLite), once,
only on known accounts."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from balance.models import AccountBalance, TransactionEntry
from balance.services import Posting, account_hold_place, transfer_leg_posting_apply

pytestmark = pytest.mark.django_db


def _withdrawal(account_id: str, core_id: str = "WTH1", amount: int = -3000) -> Posting:
    return Posting(core_transaction_id=core_id, account_id=account_id, type="TRANSFER_WITHDRAWAL", amount=amount,
                   timestamp=timezone.now(), transfer_id="t1", target_account_id="0017654321")


def _held(open_account, post_entry, hold: int = 3000) -> AccountBalance:
    account = open_account("0019000001", "CUST901")
    post_entry(account, 10_000)
    with transaction.atomic():
        account_hold_place(account=AccountBalance.objects.select_for_update().get(pk=account.pk), amount=hold)
    return account


def test_a_new_posting_moves_the_ledger_and_releases_the_hold_in_one_statement_or_two(open_account, post_entry):
    # given an account with 10,000 yen and a 3,000 yen hold for a transfer
    account = _held(open_account, post_entry)
    # when the withdrawal leg's posting is applied with the hold's release
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        applied = transfer_leg_posting_apply(posting=_withdrawal(account.account_id), hold_release=3000)
    # then the entry is new, the ledger moved, the hold is gone: one statement on PostgreSQL (the INSERT inside the
    # UPDATE's WITH), one INSERT and one UPDATE on SQLite (no data-modifying WITH there)
    assert applied is True
    expected = ["WITH"] if connection.vendor == "postgresql" else ["INSERT", "UPDATE"]
    assert [query["sql"].split()[0] for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE"))
            ] == expected
    account.refresh_from_db()
    assert (account.ledger_balance, account.pending_debits) == (7000, 0)


def test_a_posting_that_core_sync_already_imported_only_releases_the_hold(open_account, post_entry):
    # given the withdrawal's posting already imported by core sync (ledger already moved) and the hold still placed
    account = _held(open_account, post_entry)
    post_entry(account, -3000, core_transaction_id="WTH1", type="TRANSFER_WITHDRAWAL")
    # when the leg records it
    with transaction.atomic():
        applied = transfer_leg_posting_apply(posting=_withdrawal(account.account_id), hold_release=3000)
    # then the ledger moved once only and the hold is released
    assert applied is False
    account.refresh_from_db()
    assert (account.ledger_balance, account.pending_debits) == (7000, 0)
    assert TransactionEntry.objects.filter(core_transaction_id="WTH1").count() == 1


def test_a_posting_on_an_account_without_a_read_model_row_keeps_nothing(db):
    # given no read-model row for the account
    # when a leg's posting arrives for it
    with transaction.atomic():
        applied = transfer_leg_posting_apply(posting=_withdrawal("0019999999", amount=5000))
    # then nothing is kept
    assert applied is None
    assert not TransactionEntry.objects.exists()


def test_a_deposit_recorded_twice_moves_the_ledger_once(open_account, post_entry):
    # given a payee's account with 10,000 yen and a deposit's posting already recorded once
    account = open_account("0019000002", "CUST902")
    post_entry(account, 10_000)
    deposit = Posting(core_transaction_id="DEP1", account_id=account.account_id, type="TRANSFER_DEPOSIT",
                      amount=2500, timestamp=timezone.now(), transfer_id="t2", source_account_id="0011234567")
    with transaction.atomic():
        assert transfer_leg_posting_apply(posting=deposit) is True
    # when the same posting is recorded again (nothing to release, nothing new)
    with transaction.atomic():
        applied = transfer_leg_posting_apply(posting=deposit)
    # then it is reported as known and the ledger moved once only
    assert applied is False
    account.refresh_from_db()
    assert account.ledger_balance == 12_500
    assert TransactionEntry.objects.filter(core_transaction_id="DEP1").count() == 1
