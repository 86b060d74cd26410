"""Measurements of bench/transfers.py beyond latency and rate (issue 17): peak memory of each process group,
database work per completed transfer (pg_stat_database deltas and a counted sample of statements),
and the scaling curve (relay pool processes, web workers).

Imported by bench/transfers.py only; it takes that script's `World` and `Bench` as plain objects.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import environment
from bench.procs import CpuMeter, _process_table
from resilience.wrk import wrk_script_requests

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
PG_COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_fetched",
               "tup_returned", "blks_hit", "blks_read")
# PostgreSQL 15 backends flush their statistics at the end of a transaction at most once a second, and an idle
# one after 10 s: the "after" snapshot waits that long, so the idle web and core-mock sessions have reported.
PG_STATS_FLUSH_SECONDS = 11.0


# --- peak memory -----------------------------------------------------------------------------------------


def _memory_kib(pid: int) -> int:
    """The process's proportional set size (shared pages divided among their users, so PostgreSQL's shared
    buffers count once per group, not once per backend); its resident set size where smaps_rollup is not
    readable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB
    except (OSError, ValueError, IndexError):
        return 0


class MemorySampler(threading.Thread):
    """Memory of each labelled process tree (plus every postgres and redis-server process) every `interval`
    seconds; keeps the peak sum of each group."""

    def __init__(self, roots: dict[str, list[int]], interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak_kib: dict[str, int] = {}
        self.processes_at_peak: dict[str, int] = {}
        self.stop_event = threading.Event()

    def sample(self) -> None:
        table = _process_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        groups: dict[str, set[int]] = {"postgres": set(), "redis": set()}
        for pid, (_, comm, _) in table.items():
            if comm.startswith("postgres"):
                groups["postgres"].add(pid)
            elif comm.startswith("redis-server"):
                groups["redis"].add(pid)
        for label, pids in self.roots.items():
            stack, members = list(pids), groups.setdefault(label, set())
            while stack:
                pid = stack.pop()
                if pid in table and pid not in members:
                    members.add(pid)
                    stack.extend(children.get(pid, ()))
        for label, members in groups.items():
            total = sum(_memory_kib(pid) for pid in members)
            if total > self.peak_kib.get(label, 0):
                self.peak_kib[label], self.processes_at_peak[label] = total, len(members)

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def stop(self) -> dict[str, dict[str, float]]:
        self.stop_event.set()
        self.join(10)
        return {label: {"peak_mib": round(kib / 1024, 1), "processes": self.processes_at_peak[label]}
                for label, kib in self.peak_kib.items()}


# --- database work ---------------------------------------------------------------------------------------


def pg_database_stats() -> dict[str, dict[str, int]]:
    """The cumulative counters of pg_stat_database for the bank and the core database (fresh, not the
    transaction's cached snapshot)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(f"SELECT datname, {', '.join(PG_COUNTERS)} FROM pg_stat_database WHERE datname IN (%s, %s)",
                       [environment.BANK_DB, environment.CORE_DB])
        rows = cursor.fetchall()
    names = {environment.BANK_DB: "bank", environment.CORE_DB: "core"}
    return {names[row[0]]: dict(zip(PG_COUNTERS, (int(value) for value in row[1:]), strict=True)) for row in rows}


def pg_per_transfer(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]],
                    transfers: int) -> dict[str, dict[str, float]]:
    """Counter deltas between two snapshots divided by `transfers`."""
    return {db: {name: round((after[db][name] - before[db][name]) / transfers, 1) for name in PG_COUNTERS}
            for db in after if db in before and transfers}


def statements_sample(*, user: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Statements one transfer sends to the bank database, counted in this process (no relay worker may be
    running): `transfer_request` (the JWT's session check in the web adds one), then each leg through
    `relay.drain` against the live core mock, as tests/transfers/services/test_statement_budget.py counts them.
    A first transfer warms the connection and lazy loads; the second is counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from outbox import relay
    from transfers.services.request import transfer_request

    def one() -> dict[str, Any]:
        with CaptureQueriesContext(connection) as accept:
            answer = transfer_request(user=user, body=body, idempotency_key=None)
        if answer.status_code != 202:
            raise RuntimeError(f"sample transfer not accepted: {answer}")
        legs = []
        for _ in range(4):
            with CaptureQueriesContext(connection) as leg:
                result = relay.drain(queue="core", max_batches=1)
            if not result.claimed:
                break
            legs.append({"claimed": result.claimed, "succeeded": result.succeeded,
                         "statements": len(leg.captured_queries)})
        return {"accept": len(accept.captured_queries), "legs": legs}

    one()
    counted = one()
    legs = [leg["statements"] for leg in counted["legs"]]
    return {**counted, "per_transfer": counted["accept"] + sum(legs)}


# --- scaling curve ---------------------------------------------------------------------------------------


def completions_since(since: Any) -> dict[str, Any]:
    """TransferCompleted events recorded since `since`: count, and the rate from the relay's first leg start
    (PROCESSING_STARTED) to the last completion, so a worker's start-up time is not in it and both legs are. (From
    the first completion instead, a backlog drained oldest first would time only its deposits: every withdrawal
    runs before the first deposit, and the rate would come out about twice too high.)"""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FILTER (WHERE type = 'TransferCompleted'), "
                       "MIN(recorded_at) FILTER (WHERE type = 'PROCESSING_STARTED'), "
                       "MAX(recorded_at) FILTER (WHERE type = 'TransferCompleted') "
                       "FROM outbox_event WHERE recorded_at >= %s", [since])
        count, first, last = cursor.fetchone()
    span = (last - first).total_seconds() if count and first and last else 0.0
    return {"completed": count, "span_s": round(span, 2), "rate": count / span if span else None}


def relay_scaling(world: Any, bench: Any, *, concurrencies: tuple[int, ...], backlog: int, accept_rate: float,
                  db_now: Any, drain_timeout: float = 120.0) -> list[dict[str, Any]]:
    """For each pool size c: `backlog` transfers accepted with no relay running (ring of customers, open loop),
    then one relay worker with c prefork processes (and the beat) drains them. Completed transfers/s from the first
    leg start to the last completion (completions_since); CPU of each group from the worker's readiness until the
    backlog is gone."""
    from resilience import environment as shared_env

    rows = []
    if environment.outbox_open_count():  # e.g. the mails of the in-process transfers: not the curve's work
        worker = bench.celery_worker_start("relay-settle", queue="core,notify,default", concurrency=2)
        try:
            wait_drained(drain_timeout)
        finally:
            world.procs.stop(worker)
    for concurrency in concurrencies:
        left = environment.outbox_open_count()
        since = db_now()
        load = world.open_loop(f"scale-relay-c{concurrency}", source=None, rate=accept_rate,
                               requests_file=world.e2e_requests_file(), seconds=backlog / accept_rate)
        beat = world.procs.start("beat", [str(shared_env.VENV_BIN / "celery"), "-A", "config", "beat",
                                          "--loglevel", "INFO", "--schedule",
                                          str(world.results_dir / "var" / "celerybeat-schedule")])
        worker = None
        try:
            worker = bench.celery_worker_start(f"relay-c{concurrency}", queue="core,notify,default",
                                               concurrency=concurrency)
            meter = CpuMeter({"relay worker": [worker.pid], "beat": [beat.pid], "core mock": [bench.core_mock.pid],
                              "web": [world.web.pid]}).start()
            open_rows = wait_drained(drain_timeout)
            cpu = meter.stop()
        finally:
            world.procs.stop(beat)
            if worker is not None:
                world.procs.stop(worker)
        done = completions_since(since)
        rows.append({"concurrency": concurrency, "accepted": load["accepted"], "open_before": left,
                     "left_open": open_rows, **done, "cpu": cpu,
                     "cpu_ms_per_transfer": {label: round(cpu[label] * 1000 / done["completed"], 1)
                                             for label in ("relay worker", "core mock", "postgres", "web", "redis")
                                             if done["completed"] and label in cpu}})
        print(f"   relay c={concurrency}: {done}", file=sys.stderr, flush=True)
    return rows


def web_scaling(world: Any, *, workers: tuple[int, ...], seconds: float, threads: int) -> list[dict[str, Any]]:
    """For each web worker count w: the web restarted with w gthread workers × `threads`, then wrk (2 connections
    per request slot, closed loop) posts the ring of customers' transfers, with no relay running. Accepts/s and
    CPU of each group. The web is left with its original worker count."""
    original = world.web_workers
    script = wrk_script_requests(world.results_dir / "wrk-scale-web.lua", method="POST", url_path="/v1/api/transfer",
                                 entries=world.e2e_request_entries())
    rows = []
    try:
        for count in workers:
            world.web_restart(workers=count)
            result = world.wrk(f"scale-web-w{count}", path="/v1/api/transfer", seconds=seconds, script=script,
                               connections=2 * count * threads)
            rows.append({"workers": count, "threads": threads, **result})
            print(f"   web w={count}: {result['rps']:.0f} accepts/s", file=sys.stderr, flush=True)
    finally:
        world.web_restart(workers=original)
    return rows


def wait_drained(timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (left := environment.outbox_open_count()) > 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    return left
