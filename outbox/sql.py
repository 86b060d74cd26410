"""Vendor-specific SQL for the hot paths: event positions and commit-order reads, database clock, claim and
fenced settle.

PostgreSQL is the production database: the claim is one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`
statement and a hook-less settle is one statement (UPDATE + attempt INSERT in a data-modifying CTE).
SQLite (the embedded default) runs the same logic without row locks; its IMMEDIATE transactions
serialise writers, which is why only one relay worker process runs there.
Every timestamp comes from the database clock, never from the worker's.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F
from django.db.models.functions import Now

from outbox.models import OutboxAttempt, OutboxMessage

# SQLite stores Django datetimes as text with 6 fraction digits; its clock has 3. Pad, so a row written by
# Django in the current millisecond compares as due (text comparison) instead of 1 ms "in the future".
_SQLITE_NOW = "(STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'now') || '000')"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _sqlite_datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _sqlite_offset(seconds: float) -> str:
    return f"{seconds:+.6f} seconds"


def db_now() -> dt.datetime:
    """The database clock (PostgreSQL: clock_timestamp(); SQLite: 'now' with millisecond precision)."""
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
        cursor.execute(f"SELECT {_SQLITE_NOW}".replace("%%", "%"))
        return _sqlite_datetime(cursor.fetchone()[0])












_OPEN_EARLIER = (
    "NOT EXISTS (SELECT 1 FROM outbox_message e WHERE e.aggregate_id = m.aggregate_id AND e.queue = m.queue "
    "AND e.status IN ('pending', 'processing') AND e.id < m.id)"
)

_CLAIM_POSTGRES = f"""
WITH due AS (
    SELECT m.id FROM outbox_message m
    WHERE m.status = 'pending' AND m.queue = %s AND m.next_attempt_at <= statement_timestamp()
      AND {_OPEN_EARLIER}
    ORDER BY m.next_attempt_at, m.id
    LIMIT %s
    FOR UPDATE OF m SKIP LOCKED
)
UPDATE outbox_message AS u
SET status = 'processing', locked_by = %s, locked_until = statement_timestamp() + make_interval(secs => %s),
    retry_count = u.retry_count + 1, updated_at = statement_timestamp()
FROM due WHERE u.id = due.id
RETURNING u.*
"""

_CLAIM_SQLITE = f"""
UPDATE outbox_message
SET status = 'processing', locked_by = %s, locked_until = (STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'now', %s) || '000'),
    retry_count = retry_count + 1, updated_at = {_SQLITE_NOW}
WHERE id IN (
    SELECT m.id FROM outbox_message m
    WHERE m.status = 'pending' AND m.queue = %s AND m.next_attempt_at <= {_SQLITE_NOW} AND {_OPEN_EARLIER}
    ORDER BY m.next_attempt_at, m.id
    LIMIT %s
)
RETURNING *
"""


def messages_claim(*, queue: str, worker_id: str, batch_size: int, lease_seconds: float) -> list[OutboxMessage]:
    """Mark up to `batch_size` due pending rows of `queue` as processing by `worker_id` (one statement).

    Skips rows locked by other claimers and rows with an earlier open row of the same aggregate in the
    same queue. One statement, so atomic on its own (SQLite runs it inside the caller's IMMEDIATE transaction);
    returns the rows ordered by (next_attempt_at, id).
    """
    if is_postgres():
        raw = OutboxMessage.objects.raw(_CLAIM_POSTGRES, [queue, batch_size, worker_id, lease_seconds])
    else:
        raw = OutboxMessage.objects.raw(_CLAIM_SQLITE, [worker_id, _sqlite_offset(lease_seconds), queue, batch_size])
    messages = list(raw)
    messages.sort(key=lambda message: (message.next_attempt_at, message.id))
    return messages


@dataclass(frozen=True)
class AttemptRecord:
    """The attempt row written together with a settle."""

    outcome: str
    started_at: dt.datetime | None
    http_status: int | None
    error: str
    worker: str


def message_settle(*, message_id: int, worker_id: str, status: str, error_message: str | None = None,
                   progress: dict[str, Any] | None = None, retry_delay_seconds: float | None = None,
                   retry_count_delta: int = 0, needs_attention: bool = False,
                   attempt: AttemptRecord | None = None, attempt_no: int = 0) -> bool:
    """Fenced settle: update the row only if it is still `processing` and locked by `worker_id`.

    Only the columns that change are written (None = unchanged). `retry_delay_seconds` set → next_attempt_at
    = db now + delay; status completed → processed_at = db now. Writes the attempt row in the same statement
    (PostgreSQL) or transaction (SQLite). Returns False when the fence rejected the result (the lease was
    lost), in which case nothing was written.
    """
    postgres = is_postgres()
    now = "statement_timestamp()" if postgres else _SQLITE_NOW
    assignments = ["status = %s", "locked_by = NULL", "locked_until = NULL", f"updated_at = {now}"]
    params: list[Any] = [status]
    if status == "completed":
        assignments.append(f"processed_at = {now}")
    if error_message is not None:
        assignments.append("error_message = %s")
        params.append(error_message)
    if progress is not None:
        assignments.append("progress = %s::jsonb" if postgres else "progress = %s")
        params.append(json.dumps(progress))
    if retry_delay_seconds is not None:
        if postgres:
            assignments.append(f"next_attempt_at = {now} + make_interval(secs => %s)")
            params.append(retry_delay_seconds)
        else:
            assignments.append("next_attempt_at = (STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'now', %s) || '000')")
            params.append(_sqlite_offset(retry_delay_seconds))
    if retry_count_delta:
        assignments.append("retry_count = retry_count + %s")
        params.append(retry_count_delta)
    if needs_attention:
        assignments.append("needs_attention = %s")
        params.append(True)
    update = (f"UPDATE outbox_message SET {', '.join(assignments)} "
              "WHERE id = %s AND status = 'processing' AND locked_by = %s")
    params += [message_id, worker_id]

    if postgres and attempt is not None:
        # One statement: the attempt row is inserted only if the fenced update matched.
        sql = (
            f"WITH settled AS ({update} RETURNING id, updated_at) "
            "INSERT INTO outbox_attempt (message_id, attempt_no, started_at, finished_at, outcome, http_status, "
            "error, worker, actor) SELECT id, %s::integer, %s::timestamptz, updated_at, %s::varchar, %s::smallint, "
            "%s::text, %s::varchar, '' FROM settled"
        )
        params += [attempt_no, attempt.started_at, attempt.outcome, attempt.http_status, attempt.error,
                   attempt.worker]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount == 1
    with connection.cursor() as cursor:
        cursor.execute(update, params)
        applied = cursor.rowcount == 1
    if applied and attempt is not None:
        OutboxAttempt.objects.create(message_id=message_id, attempt_no=attempt_no, started_at=attempt.started_at,
                                     outcome=attempt.outcome, http_status=attempt.http_status, error=attempt.error,
                                     worker=attempt.worker)
    return applied


def messages_release(*, message_ids: Sequence[int], worker_id: str) -> int:
    """Give claimed-but-unattempted rows back (pending, attempt not consumed), fenced by `worker_id`."""
    if not message_ids:
        return 0
    return OutboxMessage.objects.filter(id__in=message_ids, status="processing", locked_by=worker_id).update(
        status="pending", locked_by=None, locked_until=None, retry_count=F("retry_count") - 1, updated_at=Now())
