"""The limit of the transfer route: the statements of one real `transfers.services.transfer_request` replayed by a
bare psycopg 3 loop, one transaction per transfer (no HTTP, no Django, no DRF, no JWT).

The parent captures the exact SQL (`statements_capture`, which wraps one real call with
`connection.execute_wrapper`) and passes it to the children, so the loop cannot drift from the service. Per
transfer the child puts fresh values where the captured ones were unique to that call:

- the transaction id (a sentinel during the capture) inside every string and JSON parameter;
- every UUID parameter (the events' `event_id`);
- the event positions, taken from the position sequence's `SELECT nextval(...)` of the same transaction (the
  sequence is moved far ahead before the capture, so the captured positions are unmistakable integers).

    .venv/bin/python -m bench.tx_raw_loop postgres://... '<statements JSON>' <transfers per thread> <threads>
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
import threading
import time
import uuid
from typing import Any

SENTINEL_TRANSACTION_ID = "feedfacefeedfacefeedfacefeedface"
POSITION_BUMP = 900_000_000  # the sequence is moved past this before the capture: captured positions stand out
POSITION_SQL_MARK = "nextval('outbox_event_position_seq')"


# --- parameters as JSON (parent → child) --------------------------------------------------------------------


def _encode(value: Any) -> Any:
    from psycopg.types.json import Json, Jsonb

    if isinstance(value, (Jsonb, Json)):
        return {"__jsonb__": value.obj}
    if isinstance(value, uuid.UUID):
        return {"__uuid__": str(value)}
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return {"__list__": [_encode(item) for item in value]}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"parameter of type {type(value).__name__} not supported by the raw loop: {value!r}")


def params_encode(params: Any) -> Any:
    """A statement's parameters for the child: a list, or {"__named__": {...}} for `%(name)s` placeholders
    (the event store's one-statement append binds by name)."""
    if isinstance(params, dict):
        return {"__named__": {key: _encode(value) for key, value in params.items()}}
    return [_encode(value) for value in (params or ())]


def params_fresh(substitution: Any, encoded: Any) -> Any:
    """The parameters of one replayed statement, with the transfer's fresh values."""
    if isinstance(encoded, dict):
        fresh = {key: substitution.value(value) for key, value in encoded["__named__"].items()}
        if "event_ids" in fresh:  # the append's event ids travel as text: each captured one gets its own fresh one
            fresh["event_ids"] = [str(substitution.uuids.setdefault(str(value), uuid.uuid4()))
                                  for value in fresh["event_ids"]]
        return fresh
    return [substitution.value(value) for value in encoded]


def statements_capture(*, user: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Run one real `transfer_request(user, body)` (parent side, Django set up) and return its statements as
    [{sql, params}] (with the positions and ids the database gave)."""
    from unittest import mock

    from django.db import connection

    from transfers.services import request as transfer_request_module

    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('outbox_event_position_seq', GREATEST(nextval('outbox_event_position_seq'), %s))",
                       [POSITION_BUMP])
    captured: list[dict[str, Any]] = []

    def record(execute, sql_text, params, many, context):
        if many:
            raise RuntimeError("executemany in transfer_request: not supported by the raw loop")
        entry = {"sql": sql_text, "params": params_encode(params)}
        captured.append(entry)
        result = execute(sql_text, params, many, context)
        if POSITION_SQL_MARK in sql_text:
            cursor = context["cursor"]
            entry["positions"] = [row[0] for row in cursor.fetchall()]
            cursor.scroll(0, mode="absolute")
        elif "RETURNING" in sql_text:
            # Ids the database gave (e.g. the transfer row's, updated later by its pk): the loop maps them to its
            # own. The client-side cursor holds every row, so scrolling back leaves Django's fetch intact.
            cursor = context["cursor"]
            entry["returning"] = [row[0] for row in cursor.fetchall()]
            if entry["returning"]:  # an INSERT … ON CONFLICT DO NOTHING may return no row: nothing to rewind
                cursor.scroll(0, mode="absolute")
        return result

    with mock.patch.object(transfer_request_module.secrets, "token_hex", return_value=SENTINEL_TRANSACTION_ID), \
            connection.execute_wrapper(record):
        answer = transfer_request_module.transfer_request(user=user, body=body, idempotency_key=None)
    if answer.status_code != 202 or answer.body["transactionId"] != SENTINEL_TRANSACTION_ID:
        raise RuntimeError(f"capture transfer not accepted: {answer}")
    if not any(POSITION_SQL_MARK in statement["sql"] for statement in captured):
        raise RuntimeError("the event position allocation was not captured")
    return {"statements": captured}


# --- the child ----------------------------------------------------------------------------------------------


class _Substitution:
    """Fresh values for one transfer."""

    def __init__(self) -> None:
        self.transaction_id = secrets.token_hex(16)
        self.uuids: dict[str, uuid.UUID] = {}
        self.positions: dict[int, int] = {}  # captured position or returned id → this transfer's

    def value(self, encoded: Any) -> Any:
        from psycopg.types.json import Jsonb

        if isinstance(encoded, dict):
            if "__jsonb__" in encoded:
                return Jsonb(self._json(encoded["__jsonb__"]))
            if "__uuid__" in encoded:
                return self.uuids.setdefault(encoded["__uuid__"], uuid.uuid4())
            if "__datetime__" in encoded:
                return dt.datetime.fromisoformat(encoded["__datetime__"])
            if "__date__" in encoded:
                return dt.date.fromisoformat(encoded["__date__"])
            if "__list__" in encoded:
                return [self.value(item) for item in encoded["__list__"]]
        if isinstance(encoded, str):
            return encoded.replace(SENTINEL_TRANSACTION_ID, self.transaction_id)
        if isinstance(encoded, int) and not isinstance(encoded, bool) and encoded in self.positions:
            return self.positions[encoded]
        return encoded

    def _json(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return obj.replace(SENTINEL_TRANSACTION_ID, self.transaction_id)
        if isinstance(obj, list):
            return [self._json(item) for item in obj]
        if isinstance(obj, dict):
            return {key: self._json(value) for key, value in obj.items()}
        return obj


def transfer_once(connection: Any, capture: dict[str, Any]) -> None:
    """The captured statements of one transfer, with fresh values, in one transaction."""
    substitution = _Substitution()
    with connection.transaction(), connection.cursor() as cursor:
        for statement in capture["statements"]:
            cursor.execute(statement["sql"], params_fresh(substitution, statement["params"]))
            if "positions" in statement:
                new_positions = sorted(row[0] for row in cursor.fetchall())
                substitution.positions.update(zip(statement["positions"], new_positions, strict=False))
            elif "returning" in statement:
                new_ids = [row[0] for row in cursor.fetchall()]
                substitution.positions.update(zip(statement["returning"], new_ids, strict=False))


def _thread_loop(dsn: str, capture: dict[str, Any], count: int, results: list[dict[str, Any]],
                 ready: threading.Barrier, go: threading.Event) -> None:
    import psycopg

    done, errors = 0, 0
    with psycopg.connect(dsn) as connection:
        ready.wait()
        go.wait()
        for _ in range(count):
            try:
                transfer_once(connection, capture)
                done += 1
            except psycopg.Error as exc:  # e.g. a serialization hiccup: counted, not retried
                errors += 1
                print(f"raw transfer failed: {exc}", file=sys.stderr)
    results.append({"done": done, "errors": errors, "finished": time.monotonic()})


def main() -> None:
    from bench.procs import child_report, child_wait_for_go

    dsn, capture = sys.argv[1], json.loads(sys.argv[2])
    count, threads = int(sys.argv[3]), int(sys.argv[4])
    results: list[dict[str, Any]] = []
    ready, go = threading.Barrier(threads + 1), threading.Event()
    workers = [threading.Thread(target=_thread_loop, args=(dsn, capture, count, results, ready, go))
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    child_wait_for_go()
    started = time.monotonic()
    go.set()
    for worker in workers:
        worker.join()
    child_report({"done": sum(r["done"] for r in results), "errors": sum(r["errors"] for r in results),
                  "seconds": max(r["finished"] for r in results) - started})


if __name__ == "__main__":
    main()
