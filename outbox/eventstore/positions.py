"""Global event positions and reading the log in commit order (vendor SQL of the event store).

PostgreSQL takes positions from a sequence (no row shared by all appenders) and reads the log behind a snapshot
barrier, so a reader never skips an event that commits later with a lower position. SQLite, where every writer
already holds the database's write lock, keeps a single counter row that is gap-free in commit order.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection

from outbox.eventstore.registry import ProjectionRowWrite
from outbox.sql import _SQLITE_NOW, _sqlite_datetime, is_postgres

POSITION_SEQUENCE = "outbox_event_position_seq"


def positions_allocate(count: int) -> tuple[list[int], dt.datetime]:
    """Take `count` global positions for events about to be inserted; returns them (ascending) and the database
    time.

    PostgreSQL: numbers from a sequence, one statement, no lock. Concurrent appenders therefore never wait for
    each other here, but their positions are neither gap-free (a rolled-back append keeps its numbers) nor in
    commit order (a transaction that took a lower number may commit later). Readers that follow the log use
    `events_after` (outbox/selectors.py), which reads in commit order behind a snapshot barrier instead of by
    position alone.
    SQLite: a single-row counter, `UPDATE … RETURNING`. IMMEDIATE transactions already serialise every writer
    on the database lock, so the row costs nothing more, and positions stay gap-free in commit order.
    """
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"SELECT nextval('{POSITION_SEQUENCE}'), clock_timestamp() "
                           "FROM generate_series(1, %s)", [count])
            rows = cursor.fetchall()
            return sorted(int(row[0]) for row in rows), rows[0][1]
        update = f"UPDATE outbox_event_position SET value = value + %s WHERE id = 1 RETURNING value, {_SQLITE_NOW}"
        cursor.execute(update, [count])
        row = cursor.fetchone()
        if row is None:
            # First append (or the table was flushed): create the counter at the current maximum.
            cursor.execute(
                "INSERT INTO outbox_event_position (id, value) "
                "SELECT 1, COALESCE(MAX(position), 0) FROM outbox_event WHERE 1 = 1 ON CONFLICT (id) DO NOTHING"
            )
            cursor.execute(update, [count])
            row = cursor.fetchone()
    last_position = int(row[0])
    return list(range(last_position - count + 1, last_position + 1)), _sqlite_datetime(row[1])


# One statement for a whole PostgreSQL append: read the aggregate's head, check it is at the expected version and of
# the same type, take positions from the sequence, stamp the database time into the rows and their metadata, insert.
# A head that does not match inserts nothing (the caller then reads why); a concurrent writer that inserted the same
# versions first makes ON CONFLICT skip them (PostgreSQL waits for that writer's commit or rollback before deciding).
# `{projected}` is where a projection's row write joins the statement (_projected_sql), or nothing.
_APPEND_POSTGRES = f"""
WITH head AS (
    SELECT version, aggregate_type FROM outbox_event WHERE aggregate_id = %(aggregate_id)s
    ORDER BY version DESC LIMIT 1
), clock AS MATERIALIZED (
    SELECT clock_timestamp() AS now
), new AS (
    SELECT * FROM UNNEST(%(event_ids)s::uuid[], %(types)s::text[], %(statuses)s::text[], %(legs)s::text[],
                         %(data)s::text[]::jsonb[], %(metadata)s::text[]::jsonb[])
        WITH ORDINALITY AS e(event_id, type, status, leg, data, metadata, ordinal)
), appended AS (
    INSERT INTO outbox_event (position, event_id, aggregate_type, aggregate_id, version, type, status, leg, data,
                              metadata, recorded_at)
    SELECT nextval('{POSITION_SEQUENCE}'), e.event_id, %(aggregate_type)s, %(aggregate_id)s,
           %(expected_version)s + e.ordinal, e.type, e.status, e.leg, e.data,
           e.metadata || jsonb_build_object('timestamp',
                                            to_char(clock.now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
           clock.now
    FROM new e CROSS JOIN clock
    WHERE COALESCE((SELECT version FROM head), 0) = %(expected_version)s
      AND COALESCE((SELECT aggregate_type FROM head), %(aggregate_type)s) = %(aggregate_type)s
    ORDER BY e.ordinal
    ON CONFLICT (aggregate_id, version) DO NOTHING
    RETURNING id, position, version, recorded_at, metadata ->> 'timestamp' AS timestamp
){{projected}}
SELECT id, position, version, recorded_at, timestamp, {{projected_pk}} FROM appended
"""

# A projection row written by the same statement, only when every event was inserted (a partial append is rolled
# back by the caller, and must not move the row either). The row takes the append's clock and its last position.
_PROJECTED_UPDATE = """, projected AS (
    UPDATE {table} SET {assignments}
    WHERE {pk} = %(row_pk)s AND (SELECT count(*) FROM appended) = %(row_events)s
    RETURNING {pk}
)"""
_PROJECTED_INSERT = """, projected AS (
    INSERT INTO {table} ({columns}) SELECT {selected} FROM clock
    WHERE (SELECT count(*) FROM appended) = %(row_events)s
    RETURNING {pk}
)"""


def _projected_sql(row_write: ProjectionRowWrite, *, events: int) -> tuple[str, dict[str, Any]]:
    """The `projected` part of the append statement for `row_write`, and its parameters."""
    meta = row_write.model._meta
    quote = connection.ops.quote_name
    params: dict[str, Any] = {"row_events": events}
    expressions: dict[str, str] = {}
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        if field.name in row_write.clock_fields:
            expressions[field.column] = "(SELECT now FROM clock)"
        elif field.name == row_write.position_field:
            expressions[field.column] = "(SELECT max(position) FROM appended)"
        elif field.name in row_write.values or row_write.pk is None:
            value = row_write.values[field.name] if field.name in row_write.values else field.get_default()
            params[f"row_{field.column}"] = field.get_db_prep_save(value, connection)
            expressions[field.column] = f"%(row_{field.column})s"
    if row_write.pk is None:
        return _PROJECTED_INSERT.format(table=quote(meta.db_table),
                                        columns=", ".join(quote(column) for column in expressions),
                                        selected=", ".join(expressions.values()), pk=quote(meta.pk.column)), params
    params["row_pk"] = row_write.pk
    assignments = ", ".join(f"{quote(column)} = {expression}" for column, expression in expressions.items())
    return _PROJECTED_UPDATE.format(table=quote(meta.db_table), assignments=assignments,
                                    pk=quote(meta.pk.column)), params


@dataclass(frozen=True)
class AppendedRow:
    """What the database filled in for one appended event."""

    id: int
    position: int
    version: int
    recorded_at: dt.datetime
    timestamp: str
    projected_pk: Any = None  # the primary key of the projection row the statement wrote, if any


def events_insert_at_head(*, aggregate_type: str, aggregate_id: str, expected_version: int, rows: list[dict],
                          row_write: ProjectionRowWrite | None = None) -> list[AppendedRow]:
    """PostgreSQL only: insert `rows` (event_id, type, status, leg, data and metadata as JSON text) at versions
    expected_version+1… in one statement, if and only if the aggregate is still at `expected_version` and of
    `aggregate_type`. Returns the inserted rows in version order: all of them, or fewer when the head did not match
    or a concurrent writer won some versions (the caller must then refuse the append and roll back).
    `row_write`: a projection row the same statement writes once every row was inserted (and only then)."""
    params = {"aggregate_type": aggregate_type, "aggregate_id": aggregate_id, "expected_version": expected_version,
              **{key: [row[key] for row in rows] for key in ("event_ids", "types", "statuses", "legs", "data",
                                                             "metadata")}}
    projected, projected_pk = "", "NULL"
    if row_write is not None:
        projected, row_params = _projected_sql(row_write, events=len(rows))
        projected_pk = f"(SELECT {connection.ops.quote_name(row_write.model._meta.pk.column)} FROM projected)"
        params.update(row_params)
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_POSTGRES.format(projected=projected, projected_pk=projected_pk), params)
        return sorted((AppendedRow(*row) for row in cursor.fetchall()), key=lambda row: row.version)


def events_lock_against_appends() -> None:
    """Block new event appends until this transaction ends (projection rebuilds).

    PostgreSQL: SHARE mode on the event table conflicts with the ROW EXCLUSIVE lock every INSERT takes, and waits
    for appends already in progress to commit first. SQLite: nothing to do; the IMMEDIATE transaction already
    holds the database's write lock.
    """
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE outbox_event IN SHARE MODE")


@dataclass(frozen=True)
class EventCursor:
    """Where a reader of the event log stands: the last event it read, by (writing transaction id, position).

    On SQLite the transaction id is always 0 and the position alone orders the log.
    """

    transaction_id: int = 0
    position: int = 0


def events_after(cursor: EventCursor, limit: int) -> list[tuple[int, int]]:
    """(transaction id, event id) of up to `limit` committed events after `cursor`, in commit order.

    PostgreSQL: every event row carries the id of the transaction that wrote it (column `transaction_id`, xid8,
    default `pg_current_xact_id()`, added by migration 0007). Only events whose writer's id is below the reader's
    snapshot xmin are returned: every transaction with a lower id has then ended, so no event can still commit
    "behind" the cursor, and a reader that moves its cursor forward never skips one. Ordering by (transaction id,
    position) keeps one transaction's events together in append order. The price is latency: a reader waits for
    the oldest transaction still open, however unrelated.
    """
    with connection.cursor() as db_cursor:
        if is_postgres():
            db_cursor.execute(
                "SELECT transaction_id::text::bigint, id FROM outbox_event "
                "WHERE (transaction_id, position) > (%s::text::xid8, %s) "
                "AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) "
                "ORDER BY transaction_id, position LIMIT %s",
                [str(cursor.transaction_id), cursor.position, limit])
        else:
            db_cursor.execute("SELECT 0, id FROM outbox_event WHERE position > %s ORDER BY position LIMIT %s",
                              [cursor.position, limit])
        return [(int(transaction_id), int(event_id)) for transaction_id, event_id in db_cursor.fetchall()]
