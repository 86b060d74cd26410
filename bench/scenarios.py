"""The measured scenarios: our relay, the raw psycopg limit, the peer (django-celery-outbox) and the core ceiling.

Every drain scenario starts from an emptied table, inserts its N rows while nothing drains, then starts the
clock, releases the drainers and polls until no row is left; CPU use of every process group is recorded
over the same window (bench/procs.py CpuMeter).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import environment
from bench.handlers import CORE_DEPOSIT_KIND, NOOP_KIND
from bench.procs import (
    CpuMeter,
    children_await_ready,
    children_go,
    children_measure,
    children_results,
    core_mock_process_start,
)
from bench.pyspy import pyspy_record
from resilience.environment import VENV_BIN, WorldEnvironment
from resilience.processes import Child, Processes, wait_for_log

PYTHON = str(VENV_BIN / "python")
CORE_WORKERS, CORE_THREADS = 2, 8  # gunicorn gthread: one process per core, threads for requests that wait
PEER_IDLE_SECONDS = 0.05  # the peer's poll interval when idle (default 1 s; shortened so it starts at once)


@dataclass
class Bench:
    """Shared state of one benchmark run: where things run, the process registry and the polling knobs."""

    env: WorldEnvironment
    procs: Processes
    control_key: str
    poll_seconds: float
    timeout_seconds: float
    core_mock: Child | None = None
    core_accounts: list[str] = field(default_factory=lambda: [environment.CORE_ACCOUNT])

    # --- processes --------------------------------------------------------------------------------------

    def celery_worker_start(self, name: str, *, queue: str, concurrency: int,
                            env_extra: dict[str, str] | None = None) -> Child:
        """One Celery worker (prefork pool of `concurrency` processes) consuming `queue`, started and ready."""
        worker = self.procs.start(name, [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", queue,
                                         "--concurrency", str(concurrency), "--pool", "prefork",
                                         "--hostname", f"{name}@%h", "--loglevel", "INFO"], env_extra=env_extra)
        wait_for_log(worker, r"ready\.", timeout=60)
        return worker

    def core_mock_start(self) -> Child:
        """The core-banking mock under gunicorn (gthread) on the bench port, with fault injection enabled."""
        self.core_mock = core_mock_process_start(self.procs, port=self.env.core_port, workers=CORE_WORKERS,
                                                 threads=CORE_THREADS)
        return self.core_mock

    @property
    def _core_url(self) -> str:
        return f"http://127.0.0.1:{self.env.core_port}"

    def core_latency_set(self, latency_ms: int) -> None:
        """Added latency of every core API request, through the mock's fault-control API."""
        response = httpx.post(f"{self._core_url}/core/_faults", headers={"X-Control-Key": self.control_key},
                              json={"group": "all", "latency_ms": latency_ms}, timeout=5)
        response.raise_for_status()

    def python_child(self, name: str, module: str, *args: str) -> Child:
        """A load child (`python -m module args`) speaking the ready/go line protocol."""
        return self.procs.start(name, [PYTHON, "-m", module, *args], piped=True)

    # --- measuring --------------------------------------------------------------------------------------

    def milestones_wait(self, milestones: dict[str, Callable[[], int]], *, started: float) -> dict[str, float]:
        """Seconds from `started` until each milestone's remaining count first reads 0 (polled)."""
        reached: dict[str, float] = {}
        next_progress = started + 2.0
        while len(reached) < len(milestones):
            now = time.perf_counter()
            remaining = {name: count() for name, count in milestones.items() if name not in reached}
            reached.update({name: now - started for name, left in remaining.items() if left <= 0})
            if now - started > self.timeout_seconds:
                raise TimeoutError(f"still remaining after {self.timeout_seconds}s: {remaining}")
            if now > next_progress:
                print(f"    {now - started:6.1f}s remaining {remaining}", file=sys.stderr)
                next_progress = now + 2.0
            time.sleep(self.poll_seconds)
        return reached

    def timed_drain(self, *, n: int, roots: dict[str, list[int]], release: Callable[[], None],
                    milestones: dict[str, Callable[[], int]]) -> dict[str, Any]:
        """Start the clock, release the drainers, wait for every milestone; rows/s per milestone and CPU use."""
        meter = CpuMeter(roots).start()
        started = time.perf_counter()
        release()
        seconds = self.milestones_wait(milestones, started=started)
        return {"n": n, "seconds": seconds, "rows_per_s": {name: n / value for name, value in seconds.items()},
                "cpu": meter.stop()}


# --- our relay ---------------------------------------------------------------------------------------------


def ours(bench: Bench, *, kind: str, n: int, concurrency: int, profile_to: Path | None = None,
         other_roots: dict[str, list[int]] | None = None, worker_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Our relay in one Celery worker (prefork, `concurrency` processes): N rows of `kind`, started by one drain
    nudge per process (each full batch re-enqueues the next drain, as in production; no beat sweep).
    `worker_env` changes the worker's environment (what-if rows only)."""
    from outbox.tasks import relay_nudge

    environment.outbox_reset()
    worker = bench.celery_worker_start(f"relay-c{concurrency}", queue="core", concurrency=concurrency,
                                       env_extra=worker_env)
    try:
        for _ in range(2 * concurrency):  # warm up: the pool processes run a drain on the empty table first
            relay_nudge(queue="core")
        time.sleep(1.0)
        environment.outbox_rows_insert(n=n, kind=kind, key_prefix=f"bench-{uuid.uuid4().hex[:8]}",
                                       account_ids=bench.core_accounts)
        profiling = pyspy_record(bench.procs, pid=worker.pid, output=profile_to) if profile_to else nullcontext()
        with profiling:
            result = bench.timed_drain(
                n=n, roots={"relay worker": [worker.pid], **(other_roots or {})},
                milestones={"completed": environment.outbox_open_count},
                release=lambda: [relay_nudge(queue="core") for _ in range(concurrency)])
    finally:
        bench.procs.stop(worker)
    return {**result, "kind": kind, "concurrency": concurrency, "worker_env": worker_env or {},
            "outcomes": environment.outbox_outcomes()}


def ours_noop(bench: Bench, *, n: int, concurrency: int, profile_to: Path | None = None,
              worker_env: dict[str, str] | None = None) -> dict[str, Any]:
    return ours(bench, kind=NOOP_KIND, n=n, concurrency=concurrency, profile_to=profile_to, worker_env=worker_env)


def ours_core(bench: Bench, *, n: int, concurrency: int, latency_ms: int, profile_to: Path | None = None,
              worker_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Our relay delivering each row as one deposit to the core mock with `latency_ms` added per request."""
    bench.core_latency_set(latency_ms)
    result = ours(bench, kind=CORE_DEPOSIT_KIND, n=n, concurrency=concurrency, profile_to=profile_to,
                  other_roots={"core mock": [bench.core_mock.pid]}, worker_env=worker_env)
    return {**result, "latency_ms": latency_ms}


# --- the raw limit -----------------------------------------------------------------------------------------


def raw(bench: Bench, *, n: int, processes: int, with_attempt: bool) -> dict[str, Any]:
    """The relay's claim/settle statements in a bare psycopg loop, `processes` processes (bench/raw_loop.py)."""
    from bench.raw_loop import statements_capture

    environment.outbox_reset()
    statements = statements_capture(batch_size=bench.env.batch_size, lease_seconds=60, with_attempt=with_attempt)
    environment.outbox_rows_insert(n=n, kind=NOOP_KIND, key_prefix=f"raw-{uuid.uuid4().hex[:8]}",
                                   account_ids=bench.core_accounts)
    children = [bench.python_child(f"raw-{index}", "bench.raw_loop", bench.env.bank_dsn, json.dumps(statements))
                for index in range(processes)]
    try:
        children_await_ready(children)
        result = bench.timed_drain(n=n, roots={"raw loop": [child.pid for child in children]},
                                   release=lambda: children_go(children),
                                   milestones={"completed": environment.outbox_open_count})
        settled = sum(report["settled"] for report in children_results(children, timeout=30))
    finally:
        for child in children:
            bench.procs.stop(child)
    return {**result, "processes": processes, "with_attempt": with_attempt, "settled": settled,
            "outcomes": environment.outbox_outcomes()}


# --- the peer ----------------------------------------------------------------------------------------------


@contextmanager
def _paused(children: list[Child]) -> Iterator[Callable[[], None]]:
    """SIGSTOP the (started, idle) children; yields the function that resumes them (SIGCONT), also run on exit."""
    for child in children:
        os.kill(child.pid, signal.SIGSTOP)

    def resume() -> None:
        for child in children:
            os.kill(child.pid, signal.SIGCONT)

    try:
        yield resume
    finally:
        resume()


def peer(bench: Bench, *, n: int, relays: int, concurrency: int) -> dict[str, Any]:
    """django-celery-outbox: `relays` relay processes publish N no-op tasks, one Celery worker (prefork,
    `concurrency`) runs them. The relays are started and idle-polling, then paused while the rows go in, and
    resumed when the clock starts. Milestones: `relayed` (table empty: every row published and deleted) and
    `executed` (every task ran, counted in Redis)."""
    import redis

    environment.peer_reset()
    counter_key = f"bench:peer:{uuid.uuid4().hex}"
    counter = redis.Redis.from_url(bench.env.broker_url)
    counter.set(counter_key, 0)
    worker = bench.celery_worker_start("peer-worker", queue="default", concurrency=concurrency)
    relay_children = [bench.procs.start(f"peer-relay-{index}", [
        PYTHON, "manage.py", "celery_outbox_relay", "--batch-size", str(bench.env.batch_size),
        "--idle-time", str(PEER_IDLE_SECONDS)]) for index in range(relays)]
    try:
        for child in relay_children:
            wait_for_log(child, "celery_outbox_relay_started", timeout=60)
        time.sleep(0.5)
        with _paused(relay_children) as resume:
            environment.peer_rows_insert(n=n, counter_key=counter_key)
            result = bench.timed_drain(
                n=n, roots={"peer relays": [child.pid for child in relay_children], "peer worker": [worker.pid]},
                release=resume, milestones={"relayed": environment.peer_open_count,
                                            "executed": lambda: n - int(counter.get(counter_key) or 0)})
    finally:
        for child in [*relay_children, worker]:
            bench.procs.stop(child)
    return {**result, "relays": relays, "concurrency": concurrency}


# --- the core mock's own ceiling ---------------------------------------------------------------------------


def core_ceiling(bench: Bench, *, route: str, clients: int, seconds: float, accounts: list[str]) -> dict[str, Any]:
    """Closed-loop HTTP load on the mock's `route` (withdraw or deposit), `clients` processes for `seconds`,
    1 yen per request on `accounts` in turn."""
    bench.core_latency_set(0)
    children = [bench.python_child(f"core-load-{route}-{index}", "bench.core_load", route, ",".join(accounts),
                                   str(index), str(seconds), f"ceiling-{route}")
                for index in range(clients)]
    reports, cpu = children_measure(bench.procs, children, timeout=seconds + 60, roots={
        "core mock": [bench.core_mock.pid], "load clients": [child.pid for child in children]})
    succeeded = sum(report["succeeded"] for report in reports)
    elapsed = max(report["seconds"] for report in reports)
    return {"n": succeeded, "seconds": {"requests": elapsed}, "rows_per_s": {"requests": succeeded / elapsed},
            "failed": sum(report["failed"] for report in reports), "route": route, "clients": clients,
            "accounts": len(accounts), "cpu": cpu}
