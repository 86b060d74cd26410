"""E16's experiment: the runs, and its entry points (the harness function `e16_atomicity` and the subprocess
main, `python -m resilience.atomicity.runner`).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from resilience.atomicity.checks import consistency_check
from resilience.atomicity.kill_points import kill_point_bucket, operation_fork
from resilience.atomicity.operations import (
    RETRY_PROBABILITY,
    NudgesOff,
    operation_choose,
    world_seed,
)
from resilience.environment import REPO_ROOT

DEFAULT_PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DB_PREFIX = "bench_e16"


# ====================================================================================================================
# the experiment
# ====================================================================================================================

def atomicity_runs(*, runs: int, seed: int | None = None, progress: Callable[[int], None] | None = None
                   ) -> dict[str, Any]:
    """Run `runs` killed operations on the current (PostgreSQL) database, then check it. Returns the E16 result."""
    from django.db import connection, connections

    connection.ensure_connection()
    if connection.vendor != "postgresql":
        raise RuntimeError("E16 needs PostgreSQL (SQLite file locks and fork make the kill points meaningless)")
    if connection.in_atomic_block:
        raise RuntimeError("E16 commits for real and reconnects around each fork: run it in autocommit "
                           "(pytest: transactional_db), not inside a transaction")
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    started = time.monotonic()
    kills: Counter[str] = Counter()
    kills_by_bucket: dict[str, Counter[str]] = defaultdict(Counter)
    kills_by_statement: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    statements: dict[str, list[int]] = defaultdict(list)
    errors: list[str] = []
    refusals: Counter[str] = Counter()
    with NudgesOff():
        account_ids = world_seed()
        for run_no in range(1, runs + 1):
            operation = operation_choose(rng, run_no, account_ids)
            label = f"{operation.name}[{operation.variant}]"
            dry = operation_fork(operation, kill_at=None)
            if dry.get("error") or dry["count"] < 0:
                # The operation refuses in this state (e.g. a lost race with a previous run's leftovers):
                # nothing was written; count it and go on.
                outcomes["refused_in_dry_run"] += 1
                errors.append(f"run {run_no} {label}: {dry.get('error')}")
                continue
            total = dry["count"]
            statements[operation.name].append(total)
            kill_at = rng.randint(1, total + 1)
            report = operation_fork(operation, kill_at=kill_at)
            if report["signal"] == signal.SIGKILL and report.get("killed"):
                outcomes["killed"] += 1
                kills[operation.name] += 1
                kills_by_bucket[operation.name][kill_point_bucket(kill_at, total)] += 1
                kills_by_statement[report["label"]] += 1
            elif report.get("error"):
                outcomes["error"] += 1
                errors.append(f"run {run_no} {label} k={kill_at}/{total}: {report['error']}")
            else:
                outcomes["completed"] += 1
            if rng.random() < RETRY_PROBABILITY:
                outcomes["retried_to_commit"] += 1
                try:
                    operation.run()  # in this process, committed for real
                except Exception as exc:  # noqa: BLE001 - a refusal (e.g. insufficient funds) is an answer
                    outcomes["retry_refused"] += 1
                    refusals[type(exc).__name__] += 1
            if progress:
                progress(run_no)
        connections.close_all()
        checked = consistency_check()
    metrics = {
        "runs": runs, "seed": seed, "seconds": round(time.monotonic() - started, 1),
        "events_without_outbox": checked["events_without_outbox"],
        "outbox_without_event": checked["outbox_without_event"],
        "read_model_drift": checked["read_model_drift"],
        "unexpected_outbox_rows": checked["unexpected_outbox_rows"],
        "invariant_violations": checked["invariant_violations"],
        "outcomes": dict(outcomes), "kills": sum(kills.values()), "kills_by_operation": dict(sorted(kills.items())),
        "kills_by_operation_and_bucket": {name: dict(sorted(buckets.items()))
                                          for name, buckets in sorted(kills_by_bucket.items())},
        "kills_by_statement": dict(kills_by_statement.most_common()),
        "statements_per_operation": {name: {"min": min(counts), "max": max(counts),
                                            "mean": round(sum(counts) / len(counts), 1)}
                                     for name, counts in sorted(statements.items())},
        "state": _state_counts(),
        "examples": checked["examples"],
        "retry_refusals": dict(refusals),
        "errors": errors[:20],
    }
    notes = [
        f"{runs} runs (seed {seed}): each forked a child that ran one operation and SIGKILLed itself right before "
        "SQL statement k (k uniform over the statements counted by a dry run, or at COMMIT); "
        f"{metrics['kills']} were killed, {outcomes['completed']} completed, {outcomes['refused_in_dry_run']} "
        "refused by the service before writing. After a kill the same operation was run to commit with probability "
        f"{RETRY_PROBABILITY} ({outcomes['retried_to_commit']} times), as a relay retry or client repeat would, so the "
        "state moves through every saga phase.",
        "Checks: every event that enqueues work has its outbox row (key, version, type) and every outbox row its "
        "event; read-model drift = I8 violations + ledger != Σ postings + rows a full projection rebuild changes.",
    ]
    return {"metrics": metrics, "notes": notes}


def _state_counts() -> dict[str, Any]:
    from django.db.models import Count

    from accounts.models import Application
    from outbox.eventstore.models import Event
    from outbox.models import OutboxMessage
    from transfers.models import Transfer

    return {"events": Event.objects.count(), "outbox_rows": OutboxMessage.objects.count(),
            "transfers_by_phase": dict(Transfer.objects.values_list("phase").annotate(n=Count("id"))),
            "applications_by_status": dict(Application.objects.values_list("status").annotate(n=Count("id"))),
            "outbox_by_status": dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")))}


# ====================================================================================================================
# entry points: the harness function and the subprocess main
# ====================================================================================================================

def _pg_server() -> str:
    """The PostgreSQL server to create the E16 databases on: E16_PG_SERVER, else DATABASE_URL's server when it is
    PostgreSQL, else the local default."""
    explicit = os.environ.get("E16_PG_SERVER")
    if explicit:
        return explicit.rstrip("/")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url.rsplit("/", 1)[0]
    return DEFAULT_PG_SERVER


def databases_recreate(server: str, names: tuple[str, ...]) -> None:
    """Drop and create the named databases (only those)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")


def databases_drop(server: str, names: tuple[str, ...]) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def e16_atomicity(runs: int = 1000, out_dir: Path | str | None = None, *, db_prefix: str = DB_PREFIX,
                  seed: int | None = None, keep_databases: bool = True, timeout: float = 3600) -> dict[str, Any]:
    """E16: `runs` killed operations against fresh databases `<db_prefix>_bank` / `<db_prefix>_core`, in a
    subprocess (so the caller's Django setup is untouched). Writes `e16.json` (and the child's log) to `out_dir`;
    the databases are left for inspection unless keep_databases=False."""
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="bench-e16-"))
    out.mkdir(parents=True, exist_ok=True)
    result_path = out / "e16.json"
    server = _pg_server()
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "CORE_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS")}
    env.update({"DATABASE_URL": f"{server}/{db_prefix}_bank", "CORE_DATABASE_URL": f"{server}/{db_prefix}_core",
                "DJANGO_SETTINGS_MODULE": "config.settings.test", "CELERY_BROKER_URL": "memory://",
                "BANK_VAR_DIR": tempfile.mkdtemp(prefix="bench-e16-var-"), "PYTHONPATH": str(REPO_ROOT),
                "DB_CONN_MAX_AGE": "0"})
    command = [sys.executable, "-m", "resilience.atomicity.runner", "--runs", str(runs), "--out", str(result_path),
               "--server", server, "--db-prefix", db_prefix]
    if seed is not None:
        command += ["--seed", str(seed)]
    if not keep_databases:
        command.append("--drop-after")
    with open(out / "e16.log", "w", encoding="utf-8") as log:
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   timeout=timeout)
    if completed.returncode != 0 or not result_path.exists():
        tail = (out / "e16.log").read_text(encoding="utf-8")[-3000:]
        return {"metrics": {"runs": runs, "error": f"exit {completed.returncode}"},
                "notes": [f"E16 subprocess failed; log tail:\n{tail}"]}
    result = json.loads(result_path.read_text(encoding="utf-8"))
    where = server.rsplit("@", 1)[-1]
    kept = "left for inspection" if keep_databases else "dropped at the end"
    result["notes"].append(f"Databases {db_prefix}_bank / {db_prefix}_core on {where} (dropped and created at start, "
                           f"{kept}).")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--db-prefix", default=DB_PREFIX)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--drop-after", action="store_true")
    args = parser.parse_args(argv)
    databases_recreate(args.server, (f"{args.db_prefix}_bank", f"{args.db_prefix}_core"))
    sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="core", verbosity=0, interactive=False)

    def progress(run_no: int) -> None:
        if run_no % 100 == 0:
            print(f"E16 run {run_no}/{args.runs}", flush=True)

    result = atomicity_runs(runs=args.runs, seed=args.seed, progress=progress)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(json.dumps(result["metrics"], ensure_ascii=False, default=str)[:2000], flush=True)
    if args.drop_after:
        from django.db import connections

        connections.close_all()
        databases_drop(args.server, (f"{args.db_prefix}_bank", f"{args.db_prefix}_core"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
