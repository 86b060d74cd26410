"""config.inserts.insert_unless_exists: one INSERT that skips a unique clash without breaking the transaction."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from balance.models import TransactionEntry
from config.inserts import insert_unless_exists


def _entry(core_id: str, amount: int = 500) -> TransactionEntry:
    return TransactionEntry(core_transaction_id=core_id, account_id="0019000001", type="DEPOSIT", amount=amount,
                            currency="JPY", status="completed", description="test",
                            timestamp=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def test_a_new_row_is_inserted_in_one_statement_and_gets_its_primary_key(db):
    # given a row that does not exist yet
    entry = _entry("DEP-1")
    # when it is inserted
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        inserted = insert_unless_exists(entry)
    # then one INSERT wrote it (no savepoint) and the object knows its primary key
    assert inserted is True
    assert [query["sql"].split()[0] for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE"))
            ] == ["INSERT"]
    assert entry.pk == TransactionEntry.objects.get(core_transaction_id="DEP-1").pk
    assert entry._state.adding is False


def test_a_clash_on_a_unique_value_writes_nothing_and_leaves_the_transaction_usable(db):
    # given an entry with a core transaction id
    insert_unless_exists(_entry("DEP-2", amount=500))
    # when another entry with the same id is inserted inside the same transaction
    with transaction.atomic():
        inserted = insert_unless_exists(_entry("DEP-2", amount=900))
        # then nothing was written and the transaction still answers queries (PostgreSQL would have aborted it)
        assert inserted is False
        assert list(TransactionEntry.objects.values_list("core_transaction_id", "amount")) == [("DEP-2", 500)]


def test_a_check_constraint_violation_still_raises(db):
    # given an entry that breaks the non-zero amount CHECK constraint
    # when it is inserted
    # then the database refuses it (it is not silently skipped like a unique clash)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_unless_exists(_entry("DEP-3", amount=0))
    assert not TransactionEntry.objects.exists()
