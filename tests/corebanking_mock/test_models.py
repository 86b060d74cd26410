"""The database itself refuses rows that break the money rules (CHECK constraints), whatever the code does."""
import pytest
from django.db import IntegrityError, transaction

from corebanking_mock.models import Account, IdempotencyRecord, Posting

pytestmark = pytest.mark.django_db(databases=["default", "core"])


def _refused(action) -> bool:
    try:
        with transaction.atomic(using="core"):
            action()
    except IntegrityError:
        return True
    return False


def test_database_refuses_a_negative_balance_when_updated_directly(core_db):
    assert _refused(lambda: Account.objects.filter(pk="0011234567").update(balance=-1))


@pytest.mark.parametrize("posting_type, amount", [
    ("ATM_DEPOSIT", 0), ("ATM_DEPOSIT", -1), ("TRANSFER_REFUND", -5), ("OPENING_DEPOSIT", -1),
    ("ATM_WITHDRAWAL", 1), ("TRANSFER_WITHDRAWAL", 0),
])
def test_database_refuses_a_posting_when_its_amount_is_zero_or_has_the_wrong_sign(core_db, posting_type, amount):
    assert _refused(lambda: Posting.objects.create(transaction_id="X1", account_id="0011234567", type=posting_type,
                                                   amount=amount, description="x"))


def test_database_refuses_an_unknown_account_status_when_written(core_db):
    assert _refused(lambda: Account.objects.filter(pk="0011234567").update(status="CLOSED"))


def test_database_refuses_a_second_posting_when_it_reuses_an_idempotency_key(core_db):
    # given
    Posting.objects.create(transaction_id="X1", account_id="0011234567", type="ATM_DEPOSIT", amount=1,
                           description="x", idempotency_key="k")
    # then
    assert _refused(lambda: Posting.objects.create(transaction_id="X2", account_id="0011234567", type="ATM_DEPOSIT",
                                                   amount=1, description="x", idempotency_key="k"))


def test_database_refuses_an_applied_record_when_it_has_no_stored_answer(core_db):
    assert _refused(lambda: IdempotencyRecord.objects.create(key="k", state="applied"))
