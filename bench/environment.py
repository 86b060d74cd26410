"""The benchmark's own world: its databases, what it seeds, and the rows to drain. The generic parts (child
environment, ports, secrets, database re-creation, Django preparation, Redis flush) are resilience.environment's.

Only the databases named here (`bench_bank`, `bench_core`) and the Redis db given on the command line are
created, flushed or dropped; nothing else is touched.
"""
from __future__ import annotations

import time
import uuid

from resilience.environment import REPO_ROOT, WorldEnvironment, requirements_install
from resilience.environment import databases_recreate as _databases_recreate

BANK_DB = "bench_bank"
CORE_DB = "bench_core"
CORE_ACCOUNT = "0011234567"  # seeded by seed_core (10,000,000 yen); every bench movement is 1 yen
CORE_CUSTOMER = "CUST001"  # seeded owner of the accounts the bench opens


def bench_environment(*, redis_db: int, core_port: int, batch_size: int) -> WorldEnvironment:
    """The benchmark's world: its databases (BANK_DB, CORE_DB, read when called, so a benchmark may rename
    them first), bench settings, results/var as the var folder."""
    return WorldEnvironment(bank_db=BANK_DB, core_db=CORE_DB, redis_db=redis_db, core_port=core_port,
                            batch_size=batch_size, settings_module="bench.settings",
                            var_dir=REPO_ROOT / "bench" / "results" / "var")


def bench_requirements_install() -> None:
    """Install bench/requirements.txt into the venv when the peer or py-spy is missing."""
    requirements_install(REPO_ROOT / "bench" / "requirements.txt", modules=("django_celery_outbox",),
                         executables=("py-spy",))


def databases_recreate() -> None:
    """Drop and create the two bench databases (only those)."""
    _databases_recreate((BANK_DB, CORE_DB))


def core_accounts_create(count: int) -> list[str]:
    """Open `count` accounts on the running core mock (POST /api/accounts; each gets the opening credit), so the
    1-yen movements spread over many rows instead of queueing on one account's row lock."""
    from outbox.core_banking import client as core_client

    run = uuid.uuid4().hex[:8]
    account_ids = []
    for index in range(count):
        result = core_client.account_create(customer_id=CORE_CUSTOMER, account_type="SAVINGS",
                                            idempotency_key=f"bench-account-{run}-{index}")
        if not result.ok:
            raise RuntimeError(f"core account creation failed: {result.http_status} {result.error}")
        account_ids.append(result.body["accountId"])
    return account_ids


def machine_quiet_wait(*, busy_below: float = 0.15, max_wait_seconds: float = 20.0) -> float:
    """Before a scenario: wait (bounded) until the machine is nearly idle, so the previous scenario's tail or
    another user's burst does not overlap the measurement. Returns the last busy share seen."""
    from bench.procs import machine_busy_share

    deadline = time.monotonic() + max_wait_seconds
    busy = machine_busy_share(1.0)
    while busy >= busy_below and time.monotonic() < deadline:
        busy = machine_busy_share(1.0)
    return busy


def bank_sessions_opened() -> int:
    """PostgreSQL sessions ever opened on the bank database (pg_stat_database.sessions)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def other_databases_xacts() -> int:
    """Transactions ever run on the server's other databases (someone else's load on the shared PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(xact_commit + xact_rollback), 0) FROM pg_stat_database "
                       "WHERE datname IS NOT NULL AND datname NOT IN (%s, %s)", [BANK_DB, CORE_DB])
        return int(cursor.fetchone()[0])


# --- rows to drain -------------------------------------------------------------------------------------------


def _vacuum_analyze(table: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def outbox_reset() -> None:
    """Empty the outbox tables, so every scenario starts from the same state."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE outbox_message, outbox_attempt RESTART IDENTITY")
    _vacuum_analyze("outbox_message")


def outbox_rows_insert(*, n: int, kind: str, key_prefix: str, account_ids: list[str]) -> None:
    """N pending rows of `kind` on the core queue, one aggregate each (no per-aggregate ordering waits), each
    moving 1 yen on the next of `account_ids` in turn; no nudge."""
    from outbox.models import OutboxMessage

    OutboxMessage.objects.bulk_create(
        (OutboxMessage(key=f"{key_prefix}-{index}", kind=kind, queue="core", aggregate_id=f"{key_prefix}-{index}",
                       payload={"accountId": account_ids[index % len(account_ids)], "amount": 1}, max_attempts=10)
         for index in range(n)),
        batch_size=5000)
    _vacuum_analyze("outbox_message")


def outbox_open_count() -> int:
    """Rows not settled yet (pending or processing)."""
    from outbox.models import OutboxMessage

    return OutboxMessage.objects.filter(status__in=("pending", "processing")).count()


def outbox_outcomes() -> dict[str, int]:
    """How the drained rows ended: row statuses and attempt outcomes."""
    from django.db.models import Count

    from outbox.models import OutboxAttempt, OutboxMessage

    statuses = dict(OutboxMessage.objects.values_list("status").annotate(count=Count("id")))
    attempts = dict(OutboxAttempt.objects.values_list("outcome").annotate(count=Count("id")))
    return {**{f"rows_{status}": count for status, count in statuses.items()},
            **{f"attempts_{outcome}": count for outcome, count in attempts.items()}}


def peer_reset() -> None:
    """Empty the peer's outbox table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE celery_outbox, celery_outbox_dead_letter RESTART IDENTITY")
    _vacuum_analyze("celery_outbox")


def peer_rows_insert(*, n: int, counter_key: str) -> None:
    """N rows of the peer's table, each a `bench.peer_noop` Celery task to publish (as `send_task` stores them)."""
    from django_celery_outbox.models import CeleryOutbox
    from django_celery_outbox.serialization import CURRENT_SCHEMA_VERSION

    from bench.tasks import PEER_TASK_NAME

    CeleryOutbox.objects.bulk_create(
        (CeleryOutbox(task_id=str(uuid.uuid4()), task_name=PEER_TASK_NAME, args=[counter_key], kwargs={}, options={},
                      schema_version=CURRENT_SCHEMA_VERSION) for _ in range(n)),
        batch_size=5000)
    _vacuum_analyze("celery_outbox")


def peer_open_count() -> int:
    """Rows the peer has not published yet (it deletes a row once published)."""
    from django_celery_outbox.models import CeleryOutbox

    return CeleryOutbox.objects.count()
