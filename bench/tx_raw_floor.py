"""The floor of a whole transfer (issue 17): bare psycopg 3 and one httpx client doing what one transfer does in the
bank, and nothing else: the accepting transaction's statements, then each leg's statements (claim, start, settle)
with the core call between them, in the same transaction boundaries. Measured as CPU per transfer, next to ours.

The parent captures one real transfer (`whole_transfer_capture`: `transfer_request`, then `relay.drain` leg by leg
against the live core mock, no relay worker running) with `connection.execute_wrapper`, a marker at each commit
and a record of each core HTTP call. The child replays it with fresh values, as bench/tx_raw_loop.py does for the
accept: the transaction id (a sentinel during the capture) in every string, JSON value, header and core request
body; the UUIDs; the positions and ids the database returns; and every string the core's answer gave (its
transaction ids) by the one its fresh answer gives. One connection, one thread, one transfer after the other: the
floor is CPU per transfer, and a second claimer could take this transfer's rows.

Left out, as in the accept loop: HTTP serving, Django, DRF, the JWT check, Celery, the after-commit nudges
(Redis publishes), logging.

    .venv/bin/python -m bench.tx_raw_floor postgres://... <capture JSON file> <transfers>
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.tx_raw_loop import (
    POSITION_SQL_MARK,
    _Substitution,
    params_encode,
    params_fresh,
)

# Not the accept loop's sentinel: both captures commit a real transfer in the same run, and the outbox key is unique.
SENTINEL_TRANSACTION_ID = "feedbeeffeedbeeffeedbeeffeedbeef"


def whole_transfer_capture(*, user: Any, body: dict[str, Any]) -> dict[str, Any]:
    """One real transfer, accepted and both legs run in this process (Django set up, no relay worker running, no
    open outbox row), as a list of steps: {sql, params, atomic} | {commit} | {http}."""
    from unittest import mock

    import httpx
    from django.db import connections

    from outbox import relay
    from transfers.services import request as transfer_request_module

    connection = connections["default"]
    steps: list[dict[str, Any]] = []

    def record(execute, sql_text, params, many, context):
        if many:
            raise RuntimeError("executemany in a transfer: not supported by the raw floor")
        entry = {"sql": sql_text, "params": params_encode(params),
                 "atomic": connection.in_atomic_block}
        steps.append(entry)
        result = execute(sql_text, params, many, context)
        cursor = context["cursor"]
        if (POSITION_SQL_MARK in sql_text or "RETURNING" in sql_text) and cursor.description is not None:
            key = "positions" if POSITION_SQL_MARK in sql_text else "returning"
            rows = cursor.fetchall()
            entry[key] = [row[0] for row in rows]
            if key == "positions" and rows and rows[0][-1] is not None:
                # The append also wrote the `Transfer` row (its id is the last column): later statements use that id.
                entry["projected"] = rows[0][-1]
            if rows:  # an INSERT … ON CONFLICT DO NOTHING may return no row: nothing to rewind
                cursor.scroll(0, mode="absolute")
        return result

    real_commit = connection.commit

    def commit() -> None:
        steps.append({"commit": True})
        real_commit()

    real_request = httpx.Client.request

    def request(client, method, url, *, json=None, headers=None, **kwargs):  # noqa: A002 - httpx's own name
        response = real_request(client, method, url, json=json, headers=headers, **kwargs)
        steps.append({"http": {"method": method, "url": str(url), "json": json, "headers": dict(headers or {}),
                               "response": response.json()}})
        return response

    with mock.patch.object(transfer_request_module.secrets, "token_hex", return_value=SENTINEL_TRANSACTION_ID), \
            mock.patch.object(connection, "commit", commit), mock.patch.object(httpx.Client, "request", request), \
            connection.execute_wrapper(record):
        answer = transfer_request_module.transfer_request(user=user, body=body, idempotency_key=None)
        if answer.status_code != 202:
            raise RuntimeError(f"capture transfer not accepted: {answer}")
        legs = 0
        while relay.drain(queue="core", max_batches=1).claimed and legs < 4:
            legs += 1
    # The drain's last call found nothing to claim: a poll, not part of this transfer's work.
    last_commit = max(index for index, step in enumerate(steps) if "commit" in step)
    steps = steps[:last_commit + 1]
    calls = [step for step in steps if "http" in step]
    if len(calls) != 2 or not all(SENTINEL_TRANSACTION_ID in step["http"]["headers"].get("Idempotency-Key", "")
                                  for step in calls):
        raise RuntimeError(f"expected the two core calls keyed by the transaction id, got {calls}")
    return {"steps": steps, "legs": legs,
            "statements": sum(1 for step in steps if "sql" in step) + sum(1 for step in steps if "commit" in step)}


class _FloorSubstitution(_Substitution):
    """Fresh values of one transfer, plus the core's answers: each string the captured answer held is replaced
    by the fresh answer's."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, str] = {}

    def text(self, value: str) -> str:
        value = value.replace(SENTINEL_TRANSACTION_ID, self.transaction_id)
        for old, new in self.answers.items():
            value = value.replace(old, new)
        return value

    def value(self, encoded: Any) -> Any:
        if isinstance(encoded, str):
            return self.text(encoded)
        return super().value(encoded)

    def _json(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        return super()._json(obj)

    def answer_learn(self, captured: Any, fresh: Any) -> None:
        if isinstance(captured, dict) and isinstance(fresh, dict):
            for key, value in captured.items():
                self.answer_learn(value, fresh.get(key))
        elif isinstance(captured, str) and isinstance(fresh, str) and captured != fresh and len(captured) >= 8:
            self.answers[captured] = fresh


def transfer_once(connection: Any, http: Any, capture: dict[str, Any]) -> None:
    """The captured steps of one transfer, with fresh values, in the captured transaction boundaries."""
    substitution = _FloorSubstitution()
    in_transaction = False
    with connection.cursor() as cursor:
        for step in capture["steps"]:
            if "commit" in step:
                if in_transaction:
                    cursor.execute("COMMIT")
                    in_transaction = False
            elif "http" in step:
                call = step["http"]
                response = http.request(call["method"], substitution.text(call["url"]),
                                        json=substitution._json(call["json"]),
                                        headers={k: substitution.text(v) for k, v in call["headers"].items()})
                response.raise_for_status()
                substitution.answer_learn(call["response"], response.json())
            else:
                if step["atomic"] and not in_transaction:
                    cursor.execute("BEGIN")
                    in_transaction = True
                cursor.execute(step["sql"], params_fresh(substitution, step["params"]))
                rows = cursor.fetchall() if cursor.description is not None else []
                for key in ("positions", "returning"):
                    if key in step and rows:
                        fresh = [row[0] for row in rows]
                        if key == "positions":
                            fresh.sort()
                        substitution.positions.update(zip(step[key], fresh, strict=False))
                if "projected" in step and rows:
                    substitution.positions[step["projected"]] = rows[0][-1]
        if in_transaction:
            cursor.execute("COMMIT")


def main() -> None:
    import httpx
    import psycopg

    from bench.procs import child_report, child_wait_for_go

    dsn, capture = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
    count = int(sys.argv[3])
    done = errors = 0
    with psycopg.connect(dsn, autocommit=True) as connection, httpx.Client(trust_env=False) as http:
        child_wait_for_go()
        started = time.monotonic()
        for _ in range(count):
            try:
                transfer_once(connection, http, capture)
                done += 1
            except (psycopg.Error, httpx.HTTPError) as exc:  # counted, not retried
                errors += 1
                print(f"raw floor transfer failed: {exc}", file=sys.stderr)
                if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    connection.execute("ROLLBACK")
        child_report({"done": done, "errors": errors, "seconds": time.monotonic() - started})


if __name__ == "__main__":
    main()
