"""Vendor SQL of the core mock's hot path: a fresh-key withdraw or deposit that succeeds.

`posting_apply` moves the money, writes the posting and stores the key's answer in one transaction:

- PostgreSQL: one statement (data-modifying CTEs). The account UPDATE is conditional (ACTIVE, enough
  balance, key not yet known) and takes the row lock itself; the posting and the idempotency record are
  inserted from its RETURNING row, the record's answer carrying the new balance. So BEGIN, the statement
  and COMMIT are the whole transaction.
- SQLite (the embedded default): the same three writes as three statements. Its IMMEDIATE transactions
  hold the database write lock from BEGIN, which serialises them like the row lock does.

A key that is already committed makes the conditional UPDATE match nothing, so nothing is written. A
concurrent request with the same key still in flight makes the record (or posting) insert wait for it and
then fail on the primary key: the statement (and with it the balance change) is undone as a whole, so a key
moves money at most once. Whenever nothing was applied (a refusal, a known key, a lost race, a posting-id
collision) `posting_apply` returns None and the caller takes the general ORM path, which locks the
account, decides the refusal, stores it as the key's answer, or replays the stored one.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, transaction

from corebanking_mock.models import (
    CORE_DB,
    CURRENCY_JPY,
    Account,
    AccountStatus,
    IdempotencyRecord,
    IdempotencyState,
    Posting,
)

ACCOUNT = Account._meta.db_table
POSTING = Posting._meta.db_table
RECORD = IdempotencyRecord._meta.db_table
POSTING_COLUMNS = ("transaction_id", "account_id", "type", "amount", "currency", "status", "description",
                   "timestamp", "processed_at", "source_account_id", "target_account_id", "transfer_id",
                   "transfer_type", "idempotency_key", "seeded")
RECORD_COLUMNS = ("key", "fingerprint", "method", "path", "state", "status_code", "response_body", "created_at")


def _column_list(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


POSTING_VALUES = ", ".join(f"%({column})s" for column in POSTING_COLUMNS)

# The balance moves only for an ACTIVE account, never below zero, and only while the key is unknown.
_MOVE = (f"UPDATE {ACCOUNT} SET balance = balance + %(delta)s, updated_at = %(now)s "
         f"WHERE account_id = %(account_id)s AND status = %(active)s AND balance + %(delta)s >= 0 "
         f'AND NOT EXISTS (SELECT 1 FROM {RECORD} WHERE "key" = %(key)s) RETURNING balance')
_INSERT_POSTING = f"INSERT INTO {POSTING} ({_column_list(POSTING_COLUMNS)}) "
_INSERT_RECORD = f"INSERT INTO {RECORD} ({_column_list(RECORD_COLUMNS)}) "
_RECORD_VALUES = "%(key)s, %(fingerprint)s, %(method)s, %(path)s, %(applied)s, %(status_code)s"

POSTGRES_APPLY = (
    f"WITH moved AS ({_MOVE}), "
    f"posting AS ({_INSERT_POSTING}SELECT {POSTING_VALUES} FROM moved RETURNING transaction_id), "
    f"answer AS ({_INSERT_RECORD}SELECT {_RECORD_VALUES}, "
    "%(body)s::jsonb || CASE WHEN %(report_balance)s THEN jsonb_build_object('newBalance', moved.balance) "
    "ELSE '{}'::jsonb END, %(now)s FROM moved, posting RETURNING 1) "
    "SELECT moved.balance FROM moved, answer"
)
SQLITE_INSERT_POSTING = f"{_INSERT_POSTING}VALUES ({POSTING_VALUES})"
SQLITE_INSERT_RECORD = f"{_INSERT_RECORD}VALUES ({_RECORD_VALUES}, %(body)s, %(now)s)"


@dataclass(frozen=True)
class PostingRequest:
    """One money movement as the posting and the key's record will store it; `delta_yen` is signed."""

    account_id: str
    delta_yen: int
    posting: dict[str, Any]  # the Posting columns other than id, account, amount and the common defaults
    key: str
    fingerprint: str
    method: str
    path: str
    now: dt.datetime


def posting_apply(request: PostingRequest, *, posting_id: str, body: dict[str, Any],
                  report_balance: bool) -> int | None:
    """Apply a fresh-key movement and store `body` (plus `newBalance` if `report_balance`) as the key's 200 answer.

    Returns the new balance, or None when nothing was applied (the caller then takes the general path).
    """
    connection = connections[CORE_DB]
    if not connection.features.can_return_columns_from_insert:
        return None  # SQLite older than 3.35 has no RETURNING: the general path does the work
    now = connection.ops.adapt_datetimefield_value(request.now)
    params = {
        **{column: None for column in POSTING_COLUMNS}, **request.posting,
        "transaction_id": posting_id, "account_id": request.account_id, "amount": request.delta_yen,
        "currency": CURRENCY_JPY, "status": "COMPLETED", "timestamp": now, "processed_at": now,
        "idempotency_key": request.key, "seeded": False,
        "delta": request.delta_yen, "now": now, "active": AccountStatus.ACTIVE, "key": request.key,
        "fingerprint": request.fingerprint, "method": request.method, "path": request.path,
        "applied": IdempotencyState.APPLIED, "status_code": 200, "report_balance": report_balance,
    }
    connection = connections[CORE_DB]
    try:
        with transaction.atomic(using=CORE_DB, durable=True), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(POSTGRES_APPLY, {**params, "body": json.dumps(body)})
                row = cursor.fetchone()
                return None if row is None else int(row[0])
            cursor.execute(_MOVE, params)
            row = cursor.fetchone()
            if row is None:
                return None
            new_balance = int(row[0])
            cursor.execute(SQLITE_INSERT_POSTING, params)
            answer = {**body, "newBalance": new_balance} if report_balance else body
            cursor.execute(SQLITE_INSERT_RECORD, {**params, "body": json.dumps(answer)})
            return new_balance
    except IntegrityError:
        return None  # a concurrent request committed the key first, or the posting id collided
