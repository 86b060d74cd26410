"""The limit: the relay's own claim and settle statements run by a bare psycopg 3 loop (no Django, no Celery).

The parent captures the exact SQL the relay sends (`statements_capture`, which calls outbox/relay.py's `claim`
and `settle` on an empty table) and passes it to the children, so the loop cannot drift from the relay's
statements. A child claims a batch in one transaction, "delivers" nothing and settles each row with one
autocommitted statement, until a claim comes back empty:

    .venv/bin/python -m bench.raw_loop postgres://... '<statements JSON>'
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import uuid
from typing import Any

# Sentinels passed to the relay while capturing; the loop puts the real values in their places.
_SLOTS = {"worker_id": "bench-slot-worker", "message_id": -424242, "attempt_no": 424243,
          "started_at": dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)}


def _param_plan(params: list[Any]) -> list[dict[str, Any]]:
    """Each captured parameter as {"slot": name} (a sentinel) or {"value": literal}."""
    plan = []
    for value in params:
        slot = next((name for name, sentinel in _SLOTS.items() if type(value) is type(sentinel) and value == sentinel),
                    None)
        plan.append({"slot": slot} if slot else {"value": value})
    return plan


def statements_capture(*, batch_size: int, lease_seconds: float, with_attempt: bool) -> dict[str, Any]:
    """The relay's claim and success-settle statements as {sql, plan} (parent side; needs Django set up and an
    empty outbox table). `with_attempt=False` captures the settle without the attempt row (information only)."""
    from django.db import connection

    from outbox import relay, sql
    from outbox.models import OutboxMessage
    from outbox.registry import Delivery

    captured: list[tuple[str, list[Any]]] = []

    def record(execute, sql_text, params, many, context):
        captured.append((sql_text, list(params or ())))
        return execute(sql_text, params, many, context)

    message = OutboxMessage(id=_SLOTS["message_id"], retry_count=_SLOTS["attempt_no"],
                            updated_at=_SLOTS["started_at"], error_message="", progress={})
    relay_logger = logging.getLogger("bank.outbox.relay")
    previous_level, relay_logger.level = relay_logger.level, logging.ERROR  # "result discarded": expected here
    try:
        with connection.execute_wrapper(record):
            relay.claim(queue="core", worker_id=_SLOTS["worker_id"], batch_size=batch_size,
                        lease_seconds=lease_seconds)
            if with_attempt:
                relay.settle(message=message, delivery=Delivery.success(), handler=None,
                             worker_id=_SLOTS["worker_id"])
            else:
                sql.message_settle(message_id=message.id, worker_id=_SLOTS["worker_id"], status="completed")
    finally:
        relay_logger.level = previous_level
    if len(captured) != 2:
        raise RuntimeError(f"expected the claim and one settle statement, captured {len(captured)}")
    (claim_sql, claim_params), (settle_sql, settle_params) = captured
    return {"claim": {"sql": claim_sql, "plan": _param_plan(claim_params)},
            "settle": {"sql": settle_sql, "plan": _param_plan(settle_params)}}


def _params(plan: list[dict[str, Any]], slots: dict[str, Any]) -> list[Any]:
    return [slots[item["slot"]] if "slot" in item else item["value"] for item in plan]


def drain(connection: Any, statements: dict[str, Any]) -> int:
    """Claim → settle every row, batch after batch, until a claim returns nothing. Returns the rows settled."""
    claim, settle = statements["claim"], statements["settle"]
    settled = 0
    with connection.cursor() as cursor:
        while True:
            token = f"raw:{os.getpid()}:{uuid.uuid4().hex[:12]}"
            with connection.transaction():
                cursor.execute(claim["sql"], _params(claim["plan"], {"worker_id": token}))
                rows = cursor.fetchall()
                columns = [column.name for column in cursor.description]
            if not rows:
                return settled
            id_at, retry_at, updated_at = (columns.index(name) for name in ("id", "retry_count", "updated_at"))
            for row in rows:
                cursor.execute(settle["sql"], _params(settle["plan"], {
                    "worker_id": token, "message_id": row[id_at], "attempt_no": row[retry_at],
                    "started_at": row[updated_at]}))
                settled += cursor.rowcount


def main() -> None:
    import psycopg

    from bench.procs import child_report, child_wait_for_go

    dsn, statements = sys.argv[1], json.loads(sys.argv[2])
    with psycopg.connect(dsn, autocommit=True) as connection:
        child_wait_for_go()
        child_report({"settled": drain(connection, statements)})


if __name__ == "__main__":
    main()
