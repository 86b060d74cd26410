"""`bench/transfers.py --embedded`: the transfer benchmark on the embedded default, the stack `make run` starts
with no environment: two SQLite files (the project's own settings when DATABASE_URL is unset: WAL, a 30 s busy
timeout, IMMEDIATE transactions; config/settings/database.py), Celery's filesystem broker with the worker's thread
pool (config/settings/celery.py), one relay worker process with CELERY_CONCURRENCY=1, one beat, the web under
gunicorn gthread 2 × 4 and the core mock under gunicorn gthread 2 × 4 on its own SQLite file, as
config/supervisord.conf sizes them. No PostgreSQL, no Redis.

Everything lives in a fresh temporary var dir (deleted at the end). The processes use `bench.settings_embedded`:
the PostgreSQL run's settings (production settings plus `GET /bench/ping`) without relay.py's peer app, so the two
tables compare; only the database, broker and cache settings differ, and those are the project's defaults.

    .venv/bin/python bench/transfers.py --embedded [--quick] [--no-docs] [--no-wait] [--no-quiet-wait]
    .venv/bin/python -m bench.tx_embedded smoke 10 /tmp/logs   # the stack, 10 transfers, one JSON line out

The measures taken through the ORM are bench/tx_embedded_measures.py, the report bench/tx_embedded_report.py; the
scenarios it shares with the PostgreSQL run (World, wrk, open loop, statements count) are bench/transfers.py's.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import environment
from bench.procs import CpuMeter, core_mock_process_start
from bench.transfers import (
    E2E_RATE,
    RESULTS_DIR,
    World,
    _slope,
    balance_get,
    scenario,
    statements_count,
    wait_drained,
)
from bench.tx_embedded_measures import (
    STACK_GROUPS,
    CoreBacklogSampler,
    completions_since,
    e2e_latencies,
    peak_rss_per_process,
    per_completed,
)
from bench.tx_report import backlog_flat
from resilience import environment as shared_env
from resilience import run_facts
from resilience.environment import VENV_BIN, WorldEnvironment
from resilience.processes import Child, Processes, wait_for_log

QUEUES = "core,notify,default"  # config/supervisord.conf: one worker for every queue
RELAY_CONCURRENCY = 1  # the Makefile's CELERY_CONCURRENCY without Redis: one writer anyway
CORE_WORKERS, CORE_THREADS = 2, 4  # the Makefile's CORE_WORKERS, supervisord.conf's --threads 4
DRAIN_TIMEOUT = 300.0
OVERLOAD_SECONDS = 10.0  # load time of a run offered more than the relay drained per second
# Settings that would select a server instead of the embedded default: never passed to the children.
SERVER_SETTINGS = ("DATABASE_URL", "CORE_DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")
NOT_APPLICABLE = {
    "pg_stat_database (commits, rows per transfer)": "PostgreSQL's statistics view; SQLite keeps no such counters",
    "raw psycopg accept loop (ours / raw)": "a psycopg client of a PostgreSQL server; the SQLite stack has none",
    "raw floor of a whole transfer (psycopg + httpx)": "replays PostgreSQL statements over psycopg; a sqlite3 "
                                                       "replay is not written yet",
    "relay scaling beyond one worker process": "SQLite takes one writer at a time (IMMEDIATE transactions); "
                                               "make run starts one relay process with CELERY_CONCURRENCY=1",
    "PostgreSQL and Redis CPU and memory groups": "no server runs: the databases are files written by the "
                                                  "stack's own processes, so their cost is in those groups",
}


# --- the embedded stack ---------------------------------------------------------------------------------------


def embedded_env(*, var_dir: Path, core_port: int, secret_values: dict[str, str], tracing: str) -> dict[str, str]:
    """The children's environment: no server URL, so the project's settings pick SQLite files, the filesystem
    broker and the file cache under `var_dir`."""
    keep = {name: value for name, value in os.environ.items()
            if name in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER")}
    env = {**keep, **secret_values, "PATH": f"{VENV_BIN}:{keep.get('PATH', '/usr/bin:/bin')}",
           "PYTHONPATH": str(shared_env.REPO_ROOT), "PYTHONUNBUFFERED": "1",
           "DJANGO_SETTINGS_MODULE": "bench.settings_embedded", "BANK_VAR_DIR": str(var_dir),
           "CORE_BANKING_URL": f"http://127.0.0.1:{core_port}", "CORE_MOCK_FAULTS_ENABLED": "true",
           "ALLOWED_HOSTS": "127.0.0.1", "THROTTLE_WRITE_RATE": "", "THROTTLE_LOGIN_RATE": "",
           "THROTTLE_READ_RATE": "", "TRANSFER_DAILY_LIMIT": str(10 ** 12), "TRACING_EXPORTER": tracing,
           "JWT_ACCESS_TOKEN_MINUTES": "180"}  # logged in once at the start; a full run outlasts 15 minutes
    assert not any(name in env for name in SERVER_SETTINGS)
    return env


class EmbeddedBench:
    """The process starters of the embedded stack: the commands of config/supervisord.conf (bench.scenarios.Bench
    starts them as the PostgreSQL runs do: a prefork worker, a core mock with 8 threads)."""

    def __init__(self, *, procs: Processes, core_port: int) -> None:
        self.procs, self.core_port = procs, core_port
        self.core_mock: Child | None = None

    def celery_worker_start(self, name: str, *, queue: str, concurrency: int,
                            env_extra: dict[str, str] | None = None) -> Child:
        """supervisord's worker: no --pool, so the settings' pool for the filesystem broker (threads)."""
        worker = self.procs.start(name, [str(VENV_BIN / "celery"), "-A", "config", "worker", "--queues", queue,
                                         "--concurrency", str(concurrency), "--hostname", f"{name}@%h",
                                         "--loglevel", "INFO"], env_extra=env_extra)
        wait_for_log(worker, r"ready\.", timeout=60)
        return worker

    def beat_start(self) -> Child:
        """supervisord's beat (its schedule file under the var dir, as the settings put it)."""
        return self.procs.start("beat", [str(VENV_BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO"])

    def core_mock_start(self) -> Child:
        self.core_mock = core_mock_process_start(self.procs, port=self.core_port, workers=CORE_WORKERS,
                                                 threads=CORE_THREADS)
        return self.core_mock


class EmbeddedWorld(World):
    """The PostgreSQL run's world (logins, accounts, load) on the embedded stack: its broker is a folder."""

    def broker_flush(self) -> None:
        from django.conf import settings

        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        for message in folder.iterdir():
            message.unlink(missing_ok=True)


class Stack:
    """Set up a fresh embedded world in a temporary var dir: migrated SQLite files, the seeded core mock, the web,
    logins. Stops every process it started and deletes the var dir on exit."""

    def __init__(self, *, tracing: str = "none", log_dir: Path = RESULTS_DIR / "logs" / "embedded") -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
        self.secret_values = shared_env.random_secrets()
        core_port = shared_env.free_port()
        self.env = embedded_env(var_dir=self.var_dir, core_port=core_port, secret_values=self.secret_values,
                                tracing=tracing)
        # World reads only the broker URL (not here: broker_flush) and the DSN (PostgreSQL raw loops, not run).
        self.world_env = WorldEnvironment(bank_db="", core_db="", redis_db=-1, core_port=core_port, batch_size=0,
                                          settings_module=self.env["DJANGO_SETTINGS_MODULE"], var_dir=self.var_dir)
        self.log_dir = log_dir
        self.procs = Processes(log_dir=log_dir, env=self.env)

    def __enter__(self) -> Stack:
        (RESULTS_DIR / "logs").mkdir(parents=True, exist_ok=True)
        self.procs.__enter__()
        try:
            print(f"== setup: embedded default in {self.var_dir} (SQLite, filesystem broker)", file=sys.stderr)
            shared_env.django_prepare(self.env)
            from django.conf import settings

            bank = settings.DATABASES["default"]
            if bank["ENGINE"] != "django.db.backends.sqlite3" or Path(bank["NAME"]).parent != self.var_dir:
                raise RuntimeError(f"not the run's SQLite file: {bank['ENGINE']} {bank['NAME']} (a server URL in "
                                   "the environment, or config imported before the var dir was set)")
            self.bench = EmbeddedBench(procs=self.procs, core_port=self.world_env.core_port)
            self.bench.core_mock_start()
            self.world = EmbeddedWorld(self.procs, self.env, self.world_env)
            self.world.bank_seed()
            self.world.web_start()
            self.world.login()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.procs.stop_all()
        from django.db import connections

        connections.close_all()
        shutil.rmtree(self.var_dir, ignore_errors=True)


# --- scenarios --------------------------------------------------------------------------------------------------


def ring(stack: Stack, *, rate: float, seconds: float, payroll: bool = False,
         drain_timeout: float = DRAIN_TIMEOUT) -> dict[str, Any]:
    """The saga at `rate` transfers/s for `seconds` (open loop): the ring of 50 customers, or one payer paying them
    in turn (`payroll`), through the web, the one relay worker, beat and the core mock. Besides the PostgreSQL
    run's figures: CPU of each group from the load's start until the backlog is drained, per completed transfer
    (valid whether or not the relay kept up, as every transfer's work falls inside that window), and each
    process's peak RSS."""
    from django.utils import timezone

    from bench.tx_measures import MemorySampler

    world, bench = stack.world, stack.bench
    requests_file = world.payroll_requests_file() if payroll else world.e2e_requests_file()
    sources = [world.accounts["payroll"]] if payroll else world.e2e_accounts
    worker = bench.celery_worker_start("relay-worker", queue=QUEUES, concurrency=RELAY_CONCURRENCY)
    beat = bench.beat_start()
    try:
        time.sleep(3.0)
        drained_before = wait_drained(drain_timeout)
        roots = {"web": [world.web.pid], "relay worker": [worker.pid], "beat": [beat.pid],
                 "core mock": [bench.core_mock.pid]}
        since = timezone.now()
        sampler = CoreBacklogSampler()
        sampler.start()
        memory = MemorySampler(roots)
        memory.start()
        meter = CpuMeter(roots).start()
        load = world.open_loop("e2e-embedded", source=None, requests_file=requests_file, rate=rate,
                               seconds=seconds, extra_roots={k: v for k, v in roots.items() if k != "web"})
        load_end = time.monotonic() - sampler.started_at
        deadline = time.monotonic() + drain_timeout
        while environment.outbox_open_count() > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        drained_at = time.monotonic() - sampler.started_at
        cpu = meter.stop()
        samples = sampler.stop()
        peak_memory = {label: value for label, value in memory.stop().items() if label in STACK_GROUPS}
        peak_rss = peak_rss_per_process(roots)
    finally:
        stack.procs.stop(beat)
        stack.procs.stop(worker)
    db = e2e_latencies(sources=sources, since=since)
    during = [(t, v) for t, v in samples if t <= load_end]
    values = [v for _, v in during]
    backlog = {"samples": samples, "during_min": min(values, default=0), "during_max": max(values, default=0),
               "during_last": values[-1] if values else 0,
               "second_half_slope_per_s": round(_slope([(t, v) for t, v in during if t >= load_end / 2]), 2),
               "drain_after_load_s": round(drained_at - load_end, 2), "left_open": environment.outbox_open_count(),
               "open_before": drained_before,
               "core_during_max": max((v for t, v in sampler.core_samples if t <= load_end), default=0)}
    return {"load": load, "db": db, "backlog": backlog, "concurrency": RELAY_CONCURRENCY, "rate": rate,
            "payroll": payroll, "peak_memory": peak_memory, "peak_rss_mib": peak_rss, "pids": roots,
            "cpu_load_and_drain": cpu, "cpu_ms_per_completed_transfer": per_completed(cpu, db["completed"])}


def backlog_drain(stack: Stack, *, backlog: int, accept_rate: float = 100.0) -> dict[str, Any]:
    """`backlog` transfers of the ring accepted with no relay running, then the one relay worker (and beat) drains
    them: completed transfers/s between the first and the last completion, CPU of each group until drained."""
    from django.utils import timezone

    world, bench = stack.world, stack.bench
    if environment.outbox_open_count():  # the warm-up's transfers: not this backlog's work
        worker = bench.celery_worker_start("relay-settle", queue=QUEUES, concurrency=RELAY_CONCURRENCY)
        try:
            wait_drained(DRAIN_TIMEOUT)
        finally:
            stack.procs.stop(worker)
    left = environment.outbox_open_count()
    since = timezone.now()
    load = world.open_loop("backlog-embedded", source=None, rate=accept_rate,
                           requests_file=world.e2e_requests_file(), seconds=backlog / accept_rate)
    beat = bench.beat_start()  # first: its start-up is over by the time the worker is ready and the meter starts
    worker = None
    try:
        worker = bench.celery_worker_start("relay-drain", queue=QUEUES, concurrency=RELAY_CONCURRENCY)
        meter = CpuMeter({"relay worker": [worker.pid], "beat": [beat.pid], "core mock": [bench.core_mock.pid],
                          "web": [world.web.pid]}).start()
        open_rows = wait_drained(DRAIN_TIMEOUT)
        cpu = meter.stop()
    finally:
        stack.procs.stop(beat)
        if worker is not None:
            stack.procs.stop(worker)
    done = completions_since(since)
    return {"accepted": load["accepted"], "open_before": left, "left_open": open_rows, **done, "cpu": cpu,
            "cpu_ms_per_completed_transfer": per_completed(cpu, done["completed"])}


def _log(name: str, value: Any) -> None:
    print(f"   {name}: {json.dumps(value, default=str)}", file=sys.stderr, flush=True)


def _ring_summary(run: dict[str, Any]) -> dict[str, Any]:
    return {**run["db"], "flat": backlog_flat(run), "backlog_max": run["backlog"]["during_max"],
            "cpu_ms": run["cpu_ms_per_completed_transfer"]}


def embedded_main(args: Any) -> None:
    """The whole embedded run (called by bench/transfers.py --embedded)."""
    from bench.tx_embedded_report import docs_update, evaluate, render

    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    results: dict[str, Any] = {"not_applicable": NOT_APPLICABLE}
    quiet = environment.machine_quiet_wait
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the stack (finally) on SIGTERM too
    with Stack(tracing=args.tracing) as stack:
        world = stack.world
        print("== warm-up", file=sys.stderr)
        world.wrk("warmup-ping", path="/bench/ping", seconds=2)
        world.wrk("warmup-transfer", path="/v1/api/transfer", seconds=2, source=world.accounts["warmup"],
                  connections=2)
        # First the relay's capacity: the rates above it build a backlog that only grows, so those runs are kept
        # short (OVERLOAD_SECONDS): long enough for the backlog's slope, without a drain of many minutes.
        print(f"== backlog drain: {args.scaling_backlog} transfers, one relay worker", file=sys.stderr)
        quiet()
        capacity = None
        if scenario(results, "drain", lambda: backlog_drain(stack, backlog=args.scaling_backlog)):
            _log("drain", {k: v for k, v in results["drain"].items() if k != "cpu"})
            capacity = results["drain"]["rate"]

        def ring_at(rate: float, seconds: float, payroll: bool = False) -> dict[str, Any]:
            if capacity is not None and rate > capacity:
                seconds = min(seconds, OVERLOAD_SECONDS)
            print(f"== {'payroll' if payroll else 'ring'}: {rate:g}/s for {seconds:g} s", file=sys.stderr)
            quiet()
            run = ring(stack, rate=rate, seconds=seconds, payroll=payroll)
            _log("payroll" if payroll else "ring", _ring_summary(run))
            return run

        results["e2e"] = ring_at(E2E_RATE, args.e2e_seconds)
        # The highest rate whose backlog stays flat: 80 % of the drain's completions/s, then 80 % of what the
        # last run completed per second, up to three runs.
        results["e2e_steps"], run = [], results["e2e"]
        while not backlog_flat(run) and len(results["e2e_steps"]) < 3:
            throughput = (capacity if not results["e2e_steps"] and capacity else
                          run["db"]["completed"] / max(run["load"]["send_seconds"]
                                                       + run["backlog"]["drain_after_load_s"], 0.1))
            run = ring_at(max(1.0, float(int(0.8 * throughput))), args.e2e_seconds)
            results["e2e_steps"].append(run)
        scenario(results, "e2e_payroll", lambda: ring_at(args.payroll_rate, args.payroll_seconds, payroll=True))
        print("== statements of one transfer (counted in this process)", file=sys.stderr)
        if scenario(results, "statements", lambda: statements_count(world)):
            _log("statements", results["statements"])
        for name, path, source in (("max", "/v1/api/transfer", world.accounts["max"]),
                                   ("plain", "/bench/ping", None)):
            print(f"== {name} (wrk)", file=sys.stderr)
            quiet()
            results[name] = world.wrk(name, path=path, seconds=args.max_seconds, source=source)
            print(f"   {results[name]['rps']:.0f} req/s", file=sys.stderr)
        print("== balance GET (wrk)", file=sys.stderr)
        quiet()
        if scenario(results, "balance", lambda: balance_get(world, seconds=args.max_seconds)):
            print(f"   {results['balance']['rps']:.0f} req/s", file=sys.stderr)
        rate = results["max"]["rps"] / 2
        print(f"== fixed rate {rate:.0f}/s (accept only)", file=sys.stderr)
        quiet()
        results["fixed"] = world.open_loop("fixed-embedded", source=world.accounts["fixed"], rate=rate,
                                           seconds=2 * args.max_seconds)
        _log("fixed", results["fixed"]["latency_ms"])
    record = {"started_at": started_at.isoformat(timespec="seconds"), "machine": run_facts.machine_info(),
              "commit": run_facts.git_commit(), "quick": args.quick, "tracing": args.tracing,
              "duration_s": round(time.monotonic() - started), "stack": stack_facts(), "results": results}
    record["targets"] = evaluate(results)
    path = RESULTS_DIR / f"transfers-embedded-{started_at:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(record, indent=2, default=str))
    markdown = render(record)
    print(markdown)
    if not args.no_docs:
        docs_update(markdown)
    print(f"results: {path.relative_to(shared_env.REPO_ROOT)}", file=sys.stderr)


def stack_facts() -> dict[str, Any]:
    import sqlite3

    from django.conf import settings

    return {"sqlite": sqlite3.sqlite_version, "database_options": settings.DATABASES["default"].get("OPTIONS", {}),
            "broker": settings.CELERY_BROKER_URL, "worker_pool": settings.CELERY_WORKER_POOL,
            "relay_concurrency": RELAY_CONCURRENCY, "core_mock": f"gthread {CORE_WORKERS} × {CORE_THREADS}"}


def smoke(transfers: int, log_dir: Path) -> dict[str, Any]:
    """Start the embedded stack, run `transfers` ring transfers at 5/s, stop everything: what the test checks."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with Stack(log_dir=log_dir) as stack:
        run = ring(stack, rate=5.0, seconds=transfers / 5.0, drain_timeout=60.0)
        pids = sorted({*(pid for pids in run["pids"].values() for pid in pids),
                       *(child.pid for child in stack.procs.children)})
        facts = stack_facts()
    return {"db": run["db"], "cpu_ms_per_completed_transfer": run["cpu_ms_per_completed_transfer"],
            "peak_rss_mib": run["peak_rss_mib"], "stack": facts, "pids": pids}


if __name__ == "__main__":
    if sys.argv[1:2] != ["smoke"] or len(sys.argv) != 4:
        raise SystemExit("usage: python -m bench.tx_embedded smoke <transfers> <log dir>")
    print(json.dumps(smoke(int(sys.argv[2]), Path(sys.argv[3])), default=str))
