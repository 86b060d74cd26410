"""The benchmark's own world: fresh databases, a dedicated Redis db, the child environment, and the rows to drain.

Only the databases named here (`bench_bank`, `bench_core`) and the Redis db given on the command line are
created, flushed or dropped; nothing else is touched.
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = REPO_ROOT / ".venv" / "bin"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
BANK_DB = "bench_bank"
CORE_DB = "bench_core"
CORE_ACCOUNT = "0011234567"  # seeded by seed_core (10,000,000 yen); every bench movement is 1 yen
CORE_CUSTOMER = "CUST001"  # seeded owner of the accounts the bench opens


@dataclass(frozen=True)
class BenchEnvironment:
    """Where the benchmark's processes connect, and the environment every child process gets."""

    redis_db: int
    core_port: int
    batch_size: int

    @property
    def bank_dsn(self) -> str:
        return f"{PG_SERVER}/{BANK_DB}"

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:6379/{self.redis_db}"

    def child_env(self, secret_values: dict[str, str]) -> dict[str, str]:
        """The process environment of the parent (after setup) and of every child."""
        keep = {name: value for name, value in os.environ.items()
                if name in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER")}
        return {
            **keep, **secret_values,
            "PATH": f"{VENV_BIN}:{keep.get('PATH', '/usr/bin:/bin')}",
            "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.bank_dsn, "CORE_DATABASE_URL": f"{PG_SERVER}/{CORE_DB}",
            "CELERY_BROKER_URL": self.broker_url,
            "CORE_BANKING_URL": f"http://127.0.0.1:{self.core_port}",
            "CORE_MOCK_FAULTS_ENABLED": "true",
            "OUTBOX_BATCH_SIZE": str(self.batch_size),
            "BANK_VAR_DIR": str(REPO_ROOT / "bench" / "results" / "var"),
        }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for the core mock)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def random_secrets() -> dict[str, str]:
    """Fresh secrets for this run (production settings refuse to start without them)."""
    return {name: secrets.token_urlsafe(32)
            for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "CORE_BANKING_API_KEY", "CORE_MOCK_CONTROL_KEY")}


def requirements_install(requirements: Path, *, modules: tuple[str, ...] = (),
                         executables: tuple[str, ...] = ()) -> None:
    """Install a benchmark's own requirements file into the venv when one of its `modules` cannot be found or one
    of its `executables` is missing from the venv's bin (never touches requirements.lock)."""
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    missing += [name for name in executables if not (VENV_BIN / name).exists()]
    if missing:
        subprocess.run([str(VENV_BIN / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
                       check=True)


def bench_requirements_install() -> None:
    """Install bench/requirements.txt into the venv when the peer or py-spy is missing."""
    requirements_install(REPO_ROOT / "bench" / "requirements.txt", modules=("django_celery_outbox",),
                         executables=("py-spy",))


def databases_recreate() -> None:
    """Drop and create the two bench databases (only those)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        for name in (BANK_DB, CORE_DB):
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")


def django_prepare(env: dict[str, str]) -> None:
    """Point this process at the bench world, set Django up, migrate both databases and seed the core mock."""
    os.environ.clear()
    os.environ.update(env)
    Path(env["BANK_VAR_DIR"], "static").mkdir(parents=True, exist_ok=True)  # WhiteNoise warns without it
    sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="core", verbosity=0, interactive=False)
    call_command("seed_core", verbosity=0)


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


def redis_flush(broker_url: str) -> None:
    """Empty the benchmark's own Redis db."""
    import redis

    redis.Redis.from_url(broker_url).flushdb()


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
