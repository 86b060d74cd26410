"""Transfer route benchmark (issues 7 and 17): accept throughput and latency of `POST /v1/api/transfer`, with the raw
psycopg loop and a plain Django JSON view as limits, accepted → completed latency of the saga at a fixed rate (a ring
of customers, and one hot payer), the balance GET, database work, memory, the raw floor of a whole transfer and the
scaling curve.

    .venv/bin/python bench/transfers.py            # full run (about 10 minutes)
    .venv/bin/python bench/transfers.py --quick    # smoke run (about 4 minutes)
    .venv/bin/python bench/transfers.py --embedded # the same on the embedded default (bench/tx_embedded.py)

Needs PostgreSQL and Redis on 127.0.0.1 and `wrk` (apt-get install wrk). Creates `bench_tx_bank` and
`bench_tx_core` afresh, uses Redis db 12 (flushed), writes bench/results/transfers-<time>.json and the section
"Transfers (bench/transfers.py)" of docs/performance.md. See bench/README.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # a script in bench/: import `bench` from the root

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402

from bench import environment  # noqa: E402

environment.BANK_DB, environment.CORE_DB = "bench_tx_bank", "bench_tx_core"  # this benchmark's own databases

from bench import report as relay_report  # noqa: E402
from bench.procs import (  # noqa: E402
    CpuMeter,
    children_await_ready,
    children_go,
    children_measure,
    children_results,
)
from bench.tx_report import (  # noqa: E402
    E2E_CUSTOMERS,
    E2E_RATE,
    WEB_THREADS,
    WEB_WORKERS,
    WRK_CONNECTIONS,
    backlog_flat,
    docs_update,
    evaluate,
    render,
)
from resilience import environment as shared_env  # noqa: E402
from resilience import run_facts  # noqa: E402
from resilience.environment import WorldEnvironment  # noqa: E402
from resilience.processes import Child, Processes  # noqa: E402
from resilience.wrk import wrk_parse  # noqa: E402

RESULTS_DIR = shared_env.REPO_ROOT / "bench" / "results"
PYTHON = str(shared_env.VENV_BIN / "python")
OPEN_LOOP_CONNECTIONS = 32
E2E_WORKER_CONCURRENCY = 2  # one relay pool process per core
USER, PASSWORD, CUSTOMER = "user001", "password123", "CUST001"
TARGET = "0017654321"  # the demo payee account (seeded by seed_core): the accept scenarios' target
RELAY_SCALING = (1, 2, 4, 8)  # relay worker prefork processes in the scaling curve
WEB_SCALING = (2, 4, 8)  # web gthread workers (× WEB_THREADS) in the scaling curve
RELAY_PROFILE_WATCHED = (
    *relay_report.PROFILE_WATCHED, "outbox/relay.py:start", "outbox/relay.py:drain",
    "transfers/services/legs.py:transfer_leg_start", "transfers/services/legs.py:transfer_withdrawal_record",
    "transfers/services/legs.py:transfer_deposit_record",
    "outbox/eventstore/services.py:event_append", "outbox/services.py:outbox_enqueue",
    "balance/services.py:posting_apply",
    "transfers/projections.py:transfer_projection_apply_batch", "outbox/mail.py:deliver",
    "django/db/backends/utils.py:execute", "django/db/transaction.py:__exit__", "httpx/_client.py:send",
)
PROFILE_WATCHED = (
    "transfers/services/request.py:transfer_request", "transfers/services/request.py:_daily_total",
    "outbox/eventstore/services.py:event_append", "outbox/services.py:outbox_enqueue", "outbox/tasks.py:relay_nudge",
    "auth_app/authentication.py:authenticate", "rest_framework/views.py:dispatch",
    "django/core/handlers/base.py:_get_response", "django/db/backends/utils.py:execute",
    "gunicorn/workers/gthread.py:handle",
)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: short scenarios")
    parser.add_argument("--max-seconds", type=float, default=None, help="closed-loop runs (default 15 s, quick 8 s)")
    parser.add_argument("--e2e-seconds", type=float, default=None, help="the e2e runs (default 60 s, quick 20 s)")
    parser.add_argument("--e2e-concurrency", type=int, default=E2E_WORKER_CONCURRENCY,
                        help=f"relay worker pool processes in the 100/s run (default {E2E_WORKER_CONCURRENCY})")
    parser.add_argument("--payroll-rate", type=float, default=50.0,
                        help="offered rate of the hot-source-account (payroll) run (default: its goal, 50/s)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling curve (relay and web workers)")
    parser.add_argument("--scaling-backlog", type=int, default=None,
                        help="transfers each relay worker size drains in the scaling curve (default 900, quick 300)")
    parser.add_argument("--redis-db", type=int, default=12, help="the Redis db the benchmark owns (flushed)")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile of missed targets")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a running bench/relay.py")
    parser.add_argument("--no-quiet-wait", action="store_true",
                        help="do not wait (up to 20 s) for an idle machine before each scenario: for smoke runs on a "
                             "busy shared machine, whose figures are not comparable anyway")
    parser.add_argument("--embedded", action="store_true",
                        help="run on the embedded default instead (SQLite files in a fresh temporary var dir, "
                             "filesystem broker, one relay worker; no PostgreSQL or Redis): bench/tx_embedded.py")
    parser.add_argument("--tracing", choices=("none", "file", "otlp"), default="none",
                        help="TRACING_EXPORTER of every process (default none, as in production without a "
                             "collector): run once with none and once with file to see what tracing costs")
    args = parser.parse_args()
    given = {name: getattr(args, name) for name in ("max_seconds", "e2e_seconds", "scaling_backlog")}
    args.max_seconds, args.e2e_seconds = 15.0, 60.0
    args.scaling_backlog, args.scaling_web_seconds, args.floor_transfers = 900, 10.0, 600
    if args.quick:
        args.max_seconds, args.e2e_seconds = 8.0, 20.0
        args.scaling_backlog, args.scaling_web_seconds, args.floor_transfers = 200, 3.0, 100
    for name, value in given.items():  # what the command line says wins over either default
        if value is not None:
            setattr(args, name, value)
    args.payroll_seconds = args.e2e_seconds / 2 if args.quick else args.e2e_seconds
    if args.no_quiet_wait:
        environment.machine_quiet_wait = lambda **_: 0.0
    return args


def other_benchmark_wait(max_seconds: float = 900) -> None:
    """Never measure while bench/relay.py runs on the same (2-core) machine: wait for it (bounded)."""
    deadline = time.monotonic() + max_seconds
    while subprocess.run(["pgrep", "-f", "bench/relay.py"], capture_output=True).returncode == 0:
        if time.monotonic() > deadline:
            raise SystemExit("bench/relay.py is still running; not measuring on a shared machine")
        print("   waiting for bench/relay.py to finish ...", file=sys.stderr)
        time.sleep(20)


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[min(int(rank), len(sorted_values)) - 1]


# --- the world ---------------------------------------------------------------------------------------------


class World:
    """Processes and bank data of one run."""

    def __init__(self, procs: Processes, env: dict[str, str], bench_env: WorldEnvironment) -> None:
        self.procs, self.env, self.bench_env = procs, env, bench_env
        self.web_port = shared_env.free_port()
        self.web: Child | None = None
        self.web_workers = WEB_WORKERS
        self.results_dir = RESULTS_DIR
        self.token = ""
        self.accounts: dict[str, str] = {}
        self.e2e_accounts: list[str] = []
        self.e2e_password = secrets.token_urlsafe(18)
        self.e2e_tokens: list[str] = []

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def http_wait(self, url: str, child: Child) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if child.popen.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"{child.name} did not answer {url}:\n{child.log_tail()}")

    def web_start(self, workers: int = WEB_WORKERS) -> None:
        self.web_workers = workers
        self.web = self.procs.start("web", [
            str(shared_env.VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{self.web_port}",
            "--worker-class", "gthread", "--workers", str(workers), "--threads", str(WEB_THREADS),
            "--log-level", "warning"])
        self.http_wait(f"{self.web_url}/bench/ping", self.web)

    def web_restart(self, *, workers: int) -> None:
        if self.web is not None:
            self.procs.stop(self.web)
        self.web_start(workers)

    def bank_seed(self) -> None:
        """Logins, and read-model rows synced from core: the demo pair, plus one fresh CUST001 account per
        accept scenario (each starts with no transfers today, so `_daily_total` scans the same rows in each)."""
        from auth_app.services import user_seed_demo
        from balance.models import AccountBalance
        from balance.services import account_balance_open, account_sync_from_core

        user_seed_demo(staff_secret=secrets.token_urlsafe(16))
        from auth_app.services import user_register

        fresh = environment.core_accounts_create(7 + E2E_CUSTOMERS)
        self.accounts = {"warmup": fresh[0], "max": fresh[1], "fixed": fresh[2], "raw": fresh[3],
                         "payroll": fresh[4], "sample": fresh[5], "floor": fresh[6]}
        self.e2e_accounts = fresh[7:]
        account_balance_open(account_id=TARGET, customer_id="CUST002")
        for account_id in self.accounts.values():
            account_balance_open(account_id=account_id, customer_id=CUSTOMER)
        for index, account_id in enumerate(self.e2e_accounts):
            customer_id = f"BENCH{index:03d}"
            account_balance_open(account_id=account_id, customer_id=customer_id)
            user_register(customer_id=customer_id, primary_account_id=account_id, email=f"{customer_id}@bench.invalid",
                          password=self.e2e_password, login_id=customer_id.lower(), must_change_password=False)
        for account_id in [TARGET, *self.accounts.values(), *self.e2e_accounts]:
            result = account_sync_from_core(account_id=account_id)
            if not result.ok:
                raise RuntimeError(f"sync of {account_id} failed: {result.error}")
        balances = dict(AccountBalance.objects.values_list("account_id", "ledger_balance"))
        if min(balances.values()) < 100_000:
            raise RuntimeError(f"read-model balances too small: {balances}")
        self.broker_flush()  # the sync nudges of account_balance_open

    def broker_flush(self) -> None:
        shared_env.redis_flush(self.bench_env.broker_url)

    def login(self) -> None:
        response = httpx.post(f"{self.web_url}/v1/api/auth/login", json={"loginId": USER, "password": PASSWORD},
                              timeout=10)
        response.raise_for_status()
        self.token = response.json()["token"]
        self.e2e_tokens = []
        for index in range(len(self.e2e_accounts)):
            response = httpx.post(f"{self.web_url}/v1/api/auth/login", timeout=10,
                                  json={"loginId": f"bench{index:03d}", "password": self.e2e_password})
            response.raise_for_status()
            self.e2e_tokens.append(response.json()["token"])

    def e2e_request_entries(self) -> list[dict[str, Any]]:
        """The 100/s run's requests: customer i pays 1 yen to customer i+1 (a ring), with customer i's token."""
        accounts, count = self.e2e_accounts, len(self.e2e_accounts)
        return [{"headers": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                 "body": json.dumps({"sourceAccountId": accounts[index],
                                     "targetAccountId": accounts[(index + 1) % count], "amount": 1,
                                     "description": "bench"})}
                for index, token in enumerate(self.e2e_tokens)]

    def e2e_requests_file(self) -> Path:
        path = RESULTS_DIR / "e2e-requests.json"
        path.write_text(json.dumps(self.e2e_request_entries()))
        return path

    def payroll_requests_file(self) -> Path:
        """The hot-source run's requests: one payer (user001's `payroll` account, one token) pays 1 yen to each of
        the 50 customers in turn, as a payroll run does."""
        headers = self.headers()
        entries = [{"headers": headers, "body": json.dumps({"sourceAccountId": self.accounts["payroll"],
                                                            "targetAccountId": payee, "amount": 1,
                                                            "description": "bench payroll"})}
                   for payee in self.e2e_accounts]
        path = RESULTS_DIR / "payroll-requests.json"
        path.write_text(json.dumps(entries))
        return path

    def transfer_body(self, source: str) -> str:
        return json.dumps({"sourceAccountId": source, "targetAccountId": TARGET, "amount": 1,
                           "description": "bench"})

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    # --- load -------------------------------------------------------------------------------------------

    def wrk(self, name: str, *, path: str, seconds: float, source: str | None = None,
            connections: int = WRK_CONNECTIONS, extra_roots: dict[str, list[int]] | None = None,
            script: Path | None = None) -> dict[str, Any]:
        """Closed loop: wrk, 1 thread, `connections` connections; POST a transfer when `source` is given, or run
        the Lua `script`."""
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
        if script is not None:
            argv += ["-s", str(script)]
        elif source is not None:
            script = RESULTS_DIR / f"wrk-{name}.lua"
            headers = "".join(f'wrk.headers["{key}"] = "{value}"\n' for key, value in self.headers().items())
            script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(self.transfer_body(source))}\n{headers}')
            argv += ["-s", str(script)]
        argv.append(f"{self.web_url}{path}")
        meter = CpuMeter({"web": [self.web.pid], **(extra_roots or {})}).start()
        output = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
        cpu = meter.stop()
        (RESULTS_DIR / "logs" / f"wrk-{name}.txt").write_text(output)
        return {**wrk_parse(output), "seconds_requested": seconds, "connections": connections, "cpu": cpu}

    def open_loop(self, name: str, *, source: str | None, rate: float, seconds: float,
                  extra_roots: dict[str, list[int]] | None = None, requests_file: Path | None = None) -> dict[str, Any]:
        """Fixed-rate POSTs of transfers from `source`, or round robin over `requests_file` (bench/tx_load.py);
        latency from the intended send time."""
        headers, body = ((f"@{requests_file}", "") if requests_file is not None
                         else (json.dumps(self.headers()), self.transfer_body(source)))
        child = self.procs.start(f"load-{name}", [
            PYTHON, "-m", "bench.tx_load", "127.0.0.1", str(self.web_port), "POST", "/v1/api/transfer",
            headers, body, f"{rate:.3f}", f"{seconds:g}",
            str(OPEN_LOOP_CONNECTIONS)], piped=True)
        try:
            children_await_ready([child])
            meter = CpuMeter({"web": [self.web.pid], "load generator": [child.pid], **(extra_roots or {})}).start()
            children_go([child])
            result = children_results([child], timeout=seconds + 120)[0]
            cpu = meter.stop()
        finally:
            self.procs.stop(child)
        latencies = result.pop("latencies_ms")
        accepted = result["statuses"].get("202", 0)
        return {**result, "rate": rate, "accepted": accepted, "cpu": cpu,
                "latency_ms": {f"p{pct:g}": percentile(latencies, pct) for pct in (50, 90, 99, 99.9)}
                | {"max": latencies[-1] if latencies else None}}


# --- scenarios ---------------------------------------------------------------------------------------------


def db_now() -> dt.datetime:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


class BacklogSampler(threading.Thread):
    """Open outbox rows (pending or processing) once a second, on its own DB connection."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.stop_event = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop_event.is_set():
                self.samples.append((time.monotonic() - self.started_at, environment.outbox_open_count()))
                self.stop_event.wait(1.0)
        finally:
            connection.close()

    def stop(self) -> list[tuple[float, int]]:
        self.stop_event.set()
        self.join(10)
        return self.samples


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares rows/s of the backlog over `points`."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var if var else 0.0


def e2e_latencies(*, sources: list[str], since: dt.datetime) -> dict[str, Any]:
    """accepted (TransferRequested) → completed (TransferCompleted), both `recorded_at` of the database clock."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.recorded_at, EXTRACT(EPOCH FROM (c.recorded_at - r.recorded_at)) * 1000 "
            "FROM outbox_event r LEFT JOIN outbox_event c ON c.aggregate_id = r.aggregate_id "
            "AND c.type = 'TransferCompleted' WHERE r.type = 'TransferRequested' AND r.recorded_at >= %s "
            "AND r.data->>'sourceAccountId' = ANY(%s)", [since, sources])
        rows = cursor.fetchall()
    accepted = [at for at, _ in rows]
    done = sorted(float(ms) for _, ms in rows if ms is not None)
    everything = done + [float("inf")] * (len(rows) - len(done))  # not completed: slower than any completed
    span = (max(accepted) - min(accepted)).total_seconds() if len(accepted) > 1 else 0.0
    return {"accepted": len(rows), "completed": len(done), "not_completed": len(rows) - len(done),
            "accepted_rate": (len(rows) - 1) / span if span else None,
            "latency_ms": {f"p{pct:g}": percentile(everything, pct) for pct in (50, 95, 99)}
            | {"max": everything[-1] if everything else None}}


def e2e(world: World, bench: Any, *, seconds: float, concurrency: int, rate: float = E2E_RATE,
        drain_timeout: float = 120.0, profile_to: Path | None = None, payroll: bool = False,
        db_stats: bool = True) -> dict[str, Any]:
    """The saga at `rate` transfers/s for `seconds`: web + relay worker + beat + core mock. The ring of 50
    customers, or with `payroll` one payer paying the 50 in turn (a hot source account). Peak memory of each
    process group is sampled throughout; with `db_stats`, pg_stat_database deltas of both databases."""
    from bench.pyspy import pyspy_record
    from bench.tx_measures import PG_STATS_FLUSH_SECONDS, MemorySampler, pg_database_stats

    requests_file = world.payroll_requests_file() if payroll else world.e2e_requests_file()
    sources = [world.accounts["payroll"]] if payroll else world.e2e_accounts

    worker = bench.celery_worker_start("relay-worker", queue="core,notify,default",
                                       concurrency=concurrency)
    beat = world.procs.start("beat", [str(shared_env.VENV_BIN / "celery"), "-A", "config", "beat", "--loglevel",
                                      "INFO", "--schedule", str(RESULTS_DIR / "var" / "celerybeat-schedule")])
    try:
        time.sleep(3.0)
        drained_before = wait_drained(90)
        if db_stats:
            # The worker's sessions report within a second; an idle web session's last second may still be
            # unreported (small next to a run: the "after" snapshot waits the whole 10 s).
            time.sleep(1.5)
            stats_before = pg_database_stats()
        since = db_now()
        sampler = BacklogSampler()
        sampler.start()
        memory = MemorySampler({"web": [world.web.pid], "relay worker": [worker.pid], "beat": [beat.pid],
                                "core mock": [bench.core_mock.pid]})
        memory.start()
        from contextlib import nullcontext
        profiling = pyspy_record(world.procs, pid=worker.pid, output=profile_to) if profile_to else nullcontext()
        with profiling:
            load = world.open_loop("e2e", source=None, requests_file=requests_file, rate=rate,
                                   seconds=seconds,
                                   extra_roots={"relay worker": [worker.pid], "beat": [beat.pid],
                                                "core mock": [bench.core_mock.pid]})
            load_end = time.monotonic() - sampler.started_at
            drain_deadline = time.monotonic() + drain_timeout
            while environment.outbox_open_count() > 0 and time.monotonic() < drain_deadline:
                time.sleep(0.2)
            drained_at = time.monotonic() - sampler.started_at
        samples = sampler.stop()
        peak_memory = memory.stop()
    finally:
        world.procs.stop(beat)
        world.procs.stop(worker)
    db = e2e_latencies(sources=sources, since=since)
    database_work = None
    if db_stats:
        time.sleep(PG_STATS_FLUSH_SECONDS)  # idle web and core-mock sessions report after 10 s
        from bench.tx_measures import pg_per_transfer
        database_work = {"completed": db["completed"],
                         "per_completed_transfer": pg_per_transfer(stats_before, pg_database_stats(), db["completed"])}
    during = [(t, v) for t, v in samples if t <= load_end]
    second_half = [(t, v) for t, v in during if t >= load_end / 2]
    values = [v for _, v in during]
    backlog = {"samples": samples, "during_min": min(values, default=0), "during_max": max(values, default=0),
               "during_last": values[-1] if values else 0, "second_half_slope_per_s": round(_slope(second_half), 2),
               "drain_after_load_s": round(drained_at - load_end, 2), "left_open": environment.outbox_open_count(),
               "open_before": drained_before}
    return {"load": load, "db": db, "backlog": backlog, "concurrency": concurrency, "rate": rate,
            "payroll": payroll, "peak_memory": peak_memory, "database_work": database_work}



def sustained_rate(run: dict[str, Any]) -> float:
    """80 % of the completion throughput a run that did not keep up achieved (accepts over load + drain time),
    rounded down to 5/s: the rate for the follow-up run that shows the latency when the relay keeps up."""
    seconds = run["load"]["send_seconds"] + run["backlog"]["drain_after_load_s"]
    throughput = run["db"]["completed"] / seconds if seconds else 0.0
    return max(5.0, 5.0 * int(0.8 * throughput / 5.0))


def wait_drained(timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (left := environment.outbox_open_count()) > 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def raw_loop(world: World, *, transfers: int) -> dict[str, Any]:
    """`transfers` transfers replayed by WEB_WORKERS processes × WEB_THREADS connections (the app's request slots)."""
    from django.contrib.auth import get_user_model

    from bench.tx_raw_loop import statements_capture

    user = get_user_model().objects.get(username=USER)
    capture = statements_capture(user=user, body=json.loads(world.transfer_body(world.accounts["raw"])))
    per_thread = max(1, transfers // (WEB_WORKERS * WEB_THREADS))
    children = [world.procs.start(f"raw-{index}", [PYTHON, "-m", "bench.tx_raw_loop", world.bench_env.bank_dsn,
                                                   json.dumps(capture), str(per_thread), str(WEB_THREADS)], piped=True)
                for index in range(WEB_WORKERS)]
    reports, cpu = children_measure(world.procs, children, roots={"raw loop": [child.pid for child in children]},
                                    timeout=600)
    done = sum(r["done"] for r in reports)
    seconds = max(r["seconds"] for r in reports)
    return {"transfers": done, "errors": sum(r["errors"] for r in reports), "seconds": seconds,
            "rps": done / seconds, "connections": WEB_WORKERS * WEB_THREADS, "statements": len(capture["statements"]),
            "cpu": cpu}


def core_open_count() -> int:
    """Open rows of the core queue: the ones an in-process `relay.drain(queue="core")` would claim (the notify
    queue's mails of the e2e runs stay open, as no worker runs now)."""
    from outbox.models import OutboxMessage

    return OutboxMessage.objects.filter(queue="core", status__in=("pending", "processing")).count()


def scenario(results: dict[str, Any], name: str, run: Any) -> bool:
    """Run one of the added scenarios (issue 17); a failure is recorded under results["failed"] and reported, and
    the run goes on with the others."""
    try:
        results[name] = run()
        return True
    except Exception as exc:  # noqa: BLE001 - reported in the run's markdown, not swallowed
        import traceback

        traceback.print_exc()
        results.setdefault("failed", {})[name] = f"{type(exc).__name__}: {exc}"
        print(f"   {name} FAILED: {exc}", file=sys.stderr)
        return False


def statements_count(world: World) -> dict[str, Any]:
    """One transfer's statements in the bank database, counted (no relay worker is running now). Skipped when
    rows are still open: the relay's batch would claim them too."""
    from django.contrib.auth import get_user_model

    from bench.tx_measures import statements_sample

    if (left := core_open_count()) > 0:
        return {"skipped": f"{left} rows of the core queue still open"}
    user = get_user_model().objects.get(username=USER)
    return statements_sample(user=user, body=json.loads(world.transfer_body(world.accounts["sample"])))


def raw_floor(world: World, bench: Any, *, transfers: int) -> dict[str, Any]:
    """bench/tx_raw_floor.py: `transfers` whole transfers (accept, both legs, both core calls) replayed by one
    psycopg connection and one httpx client; CPU per transfer of the loop, the core mock, PostgreSQL and Redis.
    Skipped when outbox rows are still open (the captured claim would take them)."""
    from django.contrib.auth import get_user_model

    from bench.tx_raw_floor import whole_transfer_capture

    if (left := core_open_count()) > 0:
        return {"skipped": f"{left} rows of the core queue still open"}
    user = get_user_model().objects.get(username=USER)
    capture = whole_transfer_capture(user=user, body=json.loads(world.transfer_body(world.accounts["floor"])))
    path = RESULTS_DIR / "raw-floor-capture.json"
    path.write_text(json.dumps(capture))
    child = world.procs.start("raw-floor", [PYTHON, "-m", "bench.tx_raw_floor", world.bench_env.bank_dsn, str(path),
                                            str(transfers)], piped=True)
    reports, cpu = children_measure(world.procs, [child], timeout=600,
                                    roots={"raw floor": [child.pid], "core mock": [bench.core_mock.pid]})
    done = reports[0]["done"]
    per = {label: round(cpu[label] * 1000 / done, 2) for label in ("raw floor", "core mock", "postgres", "redis")
           if done and label in cpu}
    return {"transfers": done, "errors": reports[0]["errors"], "seconds": reports[0]["seconds"],
            "legs": capture["legs"], "statements": capture["statements"], "cpu": cpu,
            "cpu_ms_per_transfer": {**per, "total": round(sum(per.values()), 2)}}


def balance_get(world: World, *, seconds: float) -> dict[str, Any]:
    """wrk closed loop (WRK_CONNECTIONS) on `GET /v1/api/balance?accountId=` of user001's warm-up account (a few
    postings), with user001's bearer token."""
    from resilience.wrk import wrk_script_requests

    path = f"/v1/api/balance?accountId={world.accounts['warmup']}"
    script = wrk_script_requests(RESULTS_DIR / "wrk-balance.lua", method="GET", url_path=path,
                                 entries=[{"headers": {"Authorization": f"Bearer {world.token}"}}])
    return world.wrk("balance", path=path, seconds=seconds, script=script)


def web_profile(world: World, *, seconds: float, output: Path) -> dict[str, Any]:
    """py-spy (CPU samples, no idle) of the web workers under the closed loop; summary by own and inclusive."""
    recorder = world.procs.start(f"py-spy-{output.stem}", [
        str(shared_env.VENV_BIN / "py-spy"), "record", "--pid", str(world.web.pid), "--subprocesses",
        "--nonblocking", "--format", "raw", "--output", str(output), "--duration", "600"])
    time.sleep(1.5)
    try:
        world.wrk("profile", path="/v1/api/transfer", seconds=seconds, source=world.accounts["warmup"])
    finally:
        import os
        import signal
        os.kill(recorder.pid, signal.SIGINT)
        try:
            recorder.popen.wait(timeout=30)
        finally:
            world.procs.stop(recorder)
    return collapsed_summary(output)


def collapsed_summary(path: Path, top: int = 10) -> dict[str, Any]:
    from bench.pyspy import _parse

    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return {"samples": 0}
    for line in path.read_text().splitlines():
        _depth, frames, count = _parse(line)
        if not frames:
            continue
        total += count
        own[f"{Path(frames[-1][1]).name}:{frames[-1][0]}"] += count
        for key in PROFILE_WATCHED:
            file_suffix, function = key.split(":")
            if any(file.endswith(file_suffix) and name == function for name, file in frames):
                inclusive[key] += count
    share = lambda counter, limit=None: {k: round(100 * v / total, 1) for k, v in counter.most_common(limit)}  # noqa: E731
    return {"file": str(path.relative_to(shared_env.REPO_ROOT)), "samples": total,
            "inclusive_pct": share(inclusive), "top_own_pct": share(own, top)}


# --- main --------------------------------------------------------------------------------------------------


def main() -> None:
    args = arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if not args.no_wait:
        other_benchmark_wait()
    if args.embedded:
        from bench.tx_embedded import embedded_main

        return embedded_main(args)  # before anything imports config (its var dir is read once, at import)
    from config.settings.outbox import OUTBOX_BATCH_SIZE

    environment.bench_requirements_install()
    secret_values = shared_env.random_secrets()
    bench_env = environment.bench_environment(redis_db=args.redis_db, core_port=shared_env.free_port(),
                                             batch_size=OUTBOX_BATCH_SIZE)
    env = {**bench_env.child_env(secret_values), "DJANGO_SETTINGS_MODULE": "bench.settings_transfers",
           "ALLOWED_HOSTS": "127.0.0.1", "THROTTLE_WRITE_RATE": "", "THROTTLE_LOGIN_RATE": "",
           "THROTTLE_READ_RATE": "",
           "TRANSFER_DAILY_LIMIT": str(10 ** 12), "TRACING_EXPORTER": args.tracing,
           # The customers log in once, at the start; a full run with profiles outlasts the default 15 minutes.
           "JWT_ACCESS_TOKEN_MINUTES": "180"}
    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    print(f"== setup: databases {environment.BANK_DB}, {environment.CORE_DB}; redis db {args.redis_db}",
          file=sys.stderr)
    environment.databases_recreate()
    shared_env.django_prepare(env)
    shared_env.redis_flush(bench_env.broker_url)
    (RESULTS_DIR / "logs").mkdir(parents=True, exist_ok=True)
    from bench.scenarios import Bench

    results: dict[str, Any] = {}
    profiles: dict[str, Any] = {}
    with Processes(log_dir=RESULTS_DIR / "logs", env=env) as procs:
        try:
            bench = Bench(env=bench_env, procs=procs, control_key=secret_values["CORE_MOCK_CONTROL_KEY"],
                          poll_seconds=0.05, timeout_seconds=300)
            bench.core_mock_start()
            world = World(procs, env, bench_env)
            world.bank_seed()
            world.web_start()
            world.login()
            print("== warm-up", file=sys.stderr)
            world.wrk("warmup-ping", path="/bench/ping", seconds=2)
            # few transfers (the relay drains them before the e2e run starts)
            world.wrk("warmup-transfer", path="/v1/api/transfer", seconds=2, source=world.accounts["warmup"],
                      connections=2)

            print(f"== e2e: {E2E_RATE:.0f}/s for {args.e2e_seconds:g} s", file=sys.stderr)
            environment.machine_quiet_wait()
            results["e2e"] = e2e(world, bench, seconds=args.e2e_seconds, concurrency=args.e2e_concurrency)
            print(f"   {json.dumps(results['e2e']['db'])}", file=sys.stderr)
            if not backlog_flat(results["e2e"]):
                rate = sustained_rate(results["e2e"])
                print(f"== e2e at the sustained rate: {rate:g}/s for {args.e2e_seconds:g} s", file=sys.stderr)
                environment.machine_quiet_wait()
                results["e2e_sustained"] = e2e(world, bench, seconds=args.e2e_seconds, rate=rate,
                                               concurrency=args.e2e_concurrency)
                print(f"   {json.dumps(results['e2e_sustained']['db'])}", file=sys.stderr)

            print(f"== e2e hot source account (payroll): {args.payroll_rate:g}/s for {args.payroll_seconds:g} s",
                  file=sys.stderr)
            environment.machine_quiet_wait()
            if scenario(results, "e2e_payroll", lambda: e2e(world, bench, seconds=args.payroll_seconds,
                                                            rate=args.payroll_rate, concurrency=args.e2e_concurrency,
                                                            payroll=True)):
                print(f"   {json.dumps(results['e2e_payroll']['db'])}", file=sys.stderr)
            print("== statements of one transfer (counted in this process)", file=sys.stderr)
            if scenario(results, "statements", lambda: statements_count(world)):
                print(f"   {json.dumps(results['statements'])}", file=sys.stderr)
            print("== raw floor of a whole transfer (psycopg + httpx, one connection)", file=sys.stderr)
            environment.machine_quiet_wait()
            if scenario(results, "raw_floor", lambda: raw_floor(world, bench, transfers=args.floor_transfers)):
                print(f"   {json.dumps({k: v for k, v in results['raw_floor'].items() if k != 'cpu'})}",
                      file=sys.stderr)

            # The relay's scaling curve runs here, while no accept scenario has left rows for the relay: each pool
            # size drains its own backlog only. The web's curve comes last: it leaves its accepted transfers behind.
            if not args.no_scaling:
                from bench.tx_measures import relay_scaling

                print(f"== scaling: relay worker processes {RELAY_SCALING}, backlog {args.scaling_backlog}",
                      file=sys.stderr)
                environment.machine_quiet_wait()
                scenario(results, "scaling_relay", lambda: relay_scaling(
                    world, bench, concurrencies=RELAY_SCALING, backlog=args.scaling_backlog, accept_rate=150.0,
                    db_now=db_now))

            print("== accept: max (wrk)", file=sys.stderr)
            environment.machine_quiet_wait()
            results["max"] = world.wrk("max", path="/v1/api/transfer", seconds=args.max_seconds,
                                       source=world.accounts["max"])
            print(f"   {results['max']['rps']:.0f} req/s", file=sys.stderr)
            print("== plain view (wrk)", file=sys.stderr)
            environment.machine_quiet_wait()
            results["plain"] = world.wrk("plain", path="/bench/ping", seconds=args.max_seconds)
            print(f"   {results['plain']['rps']:.0f} req/s", file=sys.stderr)
            print("== balance GET (wrk)", file=sys.stderr)
            environment.machine_quiet_wait()
            if scenario(results, "balance", lambda: balance_get(world, seconds=args.max_seconds)):
                print(f"   {results['balance']['rps']:.0f} req/s", file=sys.stderr)
            print("== raw psycopg loop", file=sys.stderr)
            environment.machine_quiet_wait()
            results["raw"] = raw_loop(world, transfers=results["max"]["ok"])
            print(f"   {results['raw']['rps']:.0f} transfers/s", file=sys.stderr)
            rate = results["max"]["rps"] / 2
            print(f"== fixed rate {rate:.0f}/s", file=sys.stderr)
            environment.machine_quiet_wait()
            results["fixed"] = world.open_loop("fixed", source=world.accounts["fixed"], rate=rate,
                                               seconds=2 * args.max_seconds)
            print(f"   {json.dumps(results['fixed']['latency_ms'])}", file=sys.stderr)

            targets = evaluate(results)
            missed = {t["profile"] for t in targets if not t["passed"]}
            if not args.no_profile and "web" in missed:
                print("== profile web (py-spy)", file=sys.stderr)
                profiles["web"] = web_profile(world, seconds=8, output=RESULTS_DIR / "profile-transfers-web.txt")
            if not args.no_profile and "relay" in missed:
                # Where the relay is busy, not where it is starved: at the sustained rate when there was one.
                rate = results["e2e_sustained"]["rate"] if "e2e_sustained" in results else E2E_RATE
                print(f"== profile relay worker (py-spy, 20 s at {rate:g}/s)", file=sys.stderr)
                from bench.pyspy import profile_summary
                output = RESULTS_DIR / "profile-transfers-relay.txt"
                e2e(world, bench, seconds=20, rate=rate, concurrency=args.e2e_concurrency, profile_to=output,
                    db_stats=False)
                profiles["relay"] = {"file": str(output.relative_to(shared_env.REPO_ROOT)), "rate": rate,
                                     **profile_summary(output, watched=RELAY_PROFILE_WATCHED)}
            if not args.no_scaling:
                from bench.tx_measures import web_scaling

                print(f"== scaling: web workers {WEB_SCALING}", file=sys.stderr)
                environment.machine_quiet_wait()
                scenario(results, "scaling_web", lambda: web_scaling(world, workers=WEB_SCALING,
                                                                     seconds=args.scaling_web_seconds,
                                                                     threads=WEB_THREADS))
        finally:
            procs.stop_all()
            shared_env.redis_flush(bench_env.broker_url)
    record = {"started_at": started_at.isoformat(timespec="seconds"), "machine": run_facts.machine_info(),
              "commit": run_facts.git_commit(), "quick": args.quick, "tracing": args.tracing,
              "duration_s": round(time.monotonic() - started),
              "results": results, "targets": targets, "profiles": profiles}
    result_path = RESULTS_DIR / f"transfers-{started_at:%Y%m%dT%H%M%SZ}.json"
    result_path.write_text(json.dumps(record, indent=2, default=str))
    markdown = render(record)
    print(markdown)
    if not args.no_docs:
        docs_update(markdown)
    print(f"results: {result_path.relative_to(shared_env.REPO_ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
