"""The resilience harness of flows.md §6.0: start the stack, drive W0 with Locust, apply each experiment's fault at
its time through the fault switch, sample every second, check the invariants, evaluate the criteria, tear down.

    .venv/bin/python -m resilience.harness [--experiments E1,E2] [--quick] [--out DIR]
    (normally through `manage.py resilience run …`)

Own world only: databases `bench_res_bank` / `bench_res_core` (dropped and created), Redis db 12 (flushed), free
127.0.0.1 ports, every child in its own session and stopped by its pid (resilience/processes.py), also on error
and Ctrl-C.
The core mock's fault switch is on only here (CORE_MOCK_FAULTS_ENABLED with a random control key per run).
Load goes only to 127.0.0.1 and is bounded by each experiment's duration.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import httpx

from resilience import environment
from resilience import experiments as registry
from resilience import metrics as m
from resilience.environment import REPO_ROOT, VENV_BIN
from resilience.experiments import Experiment, Timing, Variant
from resilience.processes import Child, Processes, wait_for_log

BANK_DB, CORE_DB = "bench_res_bank", "bench_res_core"
REDIS_DB = 12
DEFAULT_OUT = REPO_ROOT / "resilience" / "results"
PYTHON = str(VENV_BIN / "python")
LOCUSTFILE = REPO_ROOT / "resilience" / "locustfile.py"
REQUIREMENTS = REPO_ROOT / "resilience" / "requirements.txt"
WEB_WORKERS, WEB_THREADS = 4, 4  # §6.0: gunicorn web, 4 workers
CORE_CONCURRENCY, NOTIFY_CONCURRENCY = 4, 2  # §6.0: Celery `core` worker (4), `notify` worker (2)
CUSTOMERS, ACCOUNTS_PER_CUSTOMER = 10, 10  # W0: 100 accounts
# W0 (§6.0) per second, and how many Locust users share each rate (several, so one slow answer does not stall it).
W0_RATES = {"balance": 20.0, "transactions": 2.0, "transfer": 5.0, "application": 0.2}
W0_RATES_QUICK = {"balance": 10.0, "transactions": 1.0, "transfer": 3.0, "application": 0.2}
W0_USERS = {"balance": 20, "transactions": 2, "transfer": 10, "application": 1}
W0_CLASSES = {"balance": "BalanceUser", "transactions": "TransactionsUser", "transfer": "TransferUser",
              "application": "ApplicationUser"}
SPIKE_USERS = 8


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class ComponentError(RuntimeError):
    """A component of the stack could not be started: which one and why."""

    def __init__(self, component: str, reason: str) -> None:
        super().__init__(f"could not start {component}: {reason}")
        self.component = component


class Harness:
    """One run: processes, seeded world and the fault actions the experiments name."""

    def __init__(self, *, procs: Processes, env: dict[str, str], world_env: environment.WorldEnvironment,
                 control_key: str, run_dir: Path, quick: bool) -> None:
        self.procs, self.env, self.world_env = procs, env, world_env
        self.control_key, self.run_dir, self.quick = control_key, run_dir, quick
        self.web_port = environment.free_port()
        self.web: Child | None = None
        self.web2: Child | None = None
        self.web2_port = environment.free_port()
        self.proxy: Child | None = None
        self.proxy_port = environment.free_port()
        self.core_mock: Child | None = None
        self.workers: dict[str, Child] = {}
        self.beat: Child | None = None
        self.stack_options: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.accounts: dict[str, list[str]] = {}
        self.staff_token = ""
        self.restarts = 0
        self.actions: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}
        self._threads: list[threading.Thread] = []
        self._stop_periodic = threading.Event()
        self.t0 = 0.0

    # --- processes -----------------------------------------------------------------------------------------

    @property
    def web_url(self) -> str:
        """Where the load goes: the web instance, or HAProxy in front of two instances (E4 second part)."""
        return f"http://127.0.0.1:{self.proxy_port if self.proxy else self.web_port}"

    @property
    def core_url(self) -> str:
        return f"http://127.0.0.1:{self.world_env.core_port}"

    def _http_ready(self, url: str, child: Child, *, component: str, timeout: float = 60.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            if child.popen.poll() is not None:
                raise ComponentError(component, f"exited with {child.popen.returncode}:\n{child.log_tail()}")
            time.sleep(0.1)
        raise ComponentError(component, f"no answer from {url} within {timeout:g} s:\n{child.log_tail()}")

    def core_mock_start(self) -> None:
        self.core_mock = self.procs.start("core-mock", [
            str(VENV_BIN / "gunicorn"), "config.wsgi_core:application",
            "--bind", f"127.0.0.1:{self.world_env.core_port}",
            "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--log-level", "warning"])
        self._http_ready(f"{self.core_url}/healthz", self.core_mock, component="core-banking mock (gunicorn)")

    def web_start(self, *, second: bool = False) -> float:
        """gunicorn web (the second instance behind the proxy when `second`); returns seconds until /healthz
        answered."""
        self.restarts += 1
        env_extra = {}
        if "throttle_write" in self.stack_options:
            env_extra["THROTTLE_WRITE_RATE"] = self.stack_options["throttle_write"]
        port = self.web2_port if second else self.web_port
        workers = WEB_WORKERS // 2 if self.stack_options.get("proxy") else WEB_WORKERS
        child = self.procs.start(f"web{'2' if second else ''}-{self.restarts}", [
            str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", str(workers), "--threads", str(WEB_THREADS),
            "--log-level", "warning", "--graceful-timeout", "5",
            # Longer than any Locust user's pacing (gunicorn's default is 2 s): otherwise a client reuses a
            # keep-alive connection the server has just closed and records a failure the server never made.
            "--keep-alive", "30"], env_extra=env_extra)
        if second:
            self.web2 = child
        else:
            self.web = child
        return self._http_ready(f"http://127.0.0.1:{port}/healthz", child, component="web (gunicorn config.wsgi)")

    def proxy_start(self) -> None:
        """HAProxy (Debian package) in front of the two web instances: health check every 0.5 s, a failed
        connection is retried on the other instance (never a request that was already sent)."""
        import shutil

        binary = shutil.which("haproxy")
        if binary is None:
            raise ComponentError("HAProxy", "not installed (apt-get install -y haproxy)")
        config = self.run_dir / "haproxy.cfg"
        config.write_text("\n".join([
            "global", "  maxconn 1024", "defaults", "  mode http", "  timeout connect 2s", "  timeout client 60s",
            "  timeout server 60s", "  retries 2", "  option redispatch", "frontend bank",
            f"  bind 127.0.0.1:{self.proxy_port}", "  default_backend web", "backend web", "  balance roundrobin",
            "  option httpchk GET /healthz", "  http-check expect status 200",
            "  default-server inter 500ms fall 1 rise 2",
            f"  server web1 127.0.0.1:{self.web_port} check", f"  server web2 127.0.0.1:{self.web2_port} check", ""]))
        self.proxy = self.procs.start("haproxy", [binary, "-db", "-f", str(config)])
        self._http_ready(f"http://127.0.0.1:{self.proxy_port}/healthz", self.proxy, component="HAProxy")

    def worker_start(self, role: str) -> Child:
        """`core` (queue core, concurrency 4), `notify` (queues notify + default, 2) or `shared` (every queue)."""
        queues, concurrency = {"core": ("core", CORE_CONCURRENCY), "notify": ("notify,default", NOTIFY_CONCURRENCY),
                               "shared": ("core,notify,default", CORE_CONCURRENCY)}[role]
        self.restarts += 1
        name = f"worker-{role}-{self.restarts}"
        worker = self.procs.start(name, [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", queues,
                                         "--concurrency", str(concurrency), "--pool", "prefork",
                                         "--hostname", f"{name}@%h", "--loglevel", "INFO"])
        try:
            wait_for_log(worker, r"ready\.", timeout=90)
        except (RuntimeError, TimeoutError) as exc:
            raise ComponentError(f"Celery worker {role} ({queues})", str(exc)) from exc
        self.workers[role] = worker
        return worker

    def beat_start(self) -> None:
        self.beat = self.procs.start("beat", [str(VENV_BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO",
                                              "--schedule", str(self.run_dir / "var" / "celerybeat-schedule")])
        time.sleep(1.0)
        if self.beat.popen.poll() is not None:
            raise ComponentError("Celery beat", self.beat.log_tail())

    def stack_start(self, options: dict[str, Any] | None = None) -> None:
        """Web, workers and beat with `options` (E5 variants: shared_queue, throttle_write)."""
        self.stack_options = dict(options or {})
        self.web_start()
        if self.stack_options.get("proxy"):
            self.web_start(second=True)
            self.proxy_start()
        roles = ("shared",) if self.stack_options.get("shared_queue") else ("core", "notify")
        for role in roles:
            self.worker_start(role)
        if self.beat is None:
            self.beat_start()
        log(f"stack up: web :{self.web_port} ({WEB_WORKERS}×{WEB_THREADS}), workers {', '.join(roles)}, beat, "
            f"core mock :{self.world_env.core_port}")

    def stack_stop_app(self) -> None:
        """Stop web and workers (not the core mock, not beat) to restart them with other options."""
        for worker in list(self.workers.values()):
            self.procs.stop(worker)
        self.workers.clear()
        for attribute in ("proxy", "web2", "web"):
            child = getattr(self, attribute)
            if child is not None:
                self.procs.stop(child)
                setattr(self, attribute, None)

    # --- world ---------------------------------------------------------------------------------------------

    def world_seed(self) -> None:
        """W0's 100 accounts at 1,000,000 yen: CUSTOMERS core customers × ACCOUNTS_PER_CUSTOMER accounts, one login
        each, read-model rows synced from core; a staff login for approvals and replays."""
        from django.contrib.auth import get_user_model

        from auth_app.services import user_register
        from balance.services import account_balance_open, account_sync_from_core
        from outbox import core_client

        run = secrets.token_hex(4)
        password = secrets.token_urlsafe(16)
        for index in range(CUSTOMERS):
            result = core_client.customer_create(idempotency_key=f"res-customer-{run}-{index}", customer_info={
                "fullName": f"負荷 {index:03d}", "email": f"load{index:03d}@example.com"})
            if not result.ok:
                raise ComponentError("W0 seed (core customers)", f"{result.http_status} {result.error}")
            customer_id = result.body["customerId"]
            accounts = []
            for number in range(ACCOUNTS_PER_CUSTOMER):
                created = core_client.account_create(customer_id=customer_id, account_type="SAVINGS",
                                                     idempotency_key=f"res-account-{run}-{index}-{number}")
                if not created.ok:
                    raise ComponentError("W0 seed (core accounts)", f"{created.http_status} {created.error}")
                accounts.append(created.body["accountId"])
            for account_id in accounts:
                account_balance_open(account_id=account_id, customer_id=customer_id)
                synced = account_sync_from_core(account_id=account_id)
                if not synced.ok:
                    raise ComponentError("W0 seed (read model sync)", str(synced.error))
            login_id = f"load{index:03d}"
            user_register(customer_id=customer_id, primary_account_id=accounts[0], email=f"{login_id}@example.com",
                          password=password, login_id=login_id, must_change_password=False)
            self.accounts[login_id] = accounts
        get_user_model().objects.create_superuser(username="res-staff", email="staff@example.com", password=password)
        environment.redis_flush(self.world_env.broker_url)  # sync nudges of account_balance_open
        self._password = password

    def login_all(self) -> None:
        def login(login_id: str) -> str:
            response = httpx.post(f"{self.web_url}/v1/api/auth/login",
                                  json={"loginId": login_id, "password": self._password}, timeout=30)
            if response.status_code != 200:
                raise ComponentError("W0 logins", f"{login_id}: {response.status_code} {response.text[:200]}")
            return response.json()["token"]

        self.tokens = {login_id: login(login_id) for login_id in self.accounts}
        self.staff_token = login("res-staff")

    @property
    def w0_accounts(self) -> list[str]:
        return [account for accounts in self.accounts.values() for account in accounts]

    # --- actions (named by the experiments' steps) ----------------------------------------------------------

    def _record(self, action: str, **details: Any) -> None:
        entry = {"t": round(time.time() - self.t0, 2) if self.t0 else None, "action": action, **details}
        self.actions.append(entry)
        log(f"   t={entry['t']}s {action} {json.dumps(details, default=str)}")

    def _core_control(self, path: str, body: dict[str, Any]) -> None:
        """POST to the core mock's fault-control API (`/core/_faults…`) with the control key
        (on only in this harness)."""
        httpx.post(f"{self.core_url}/core/_faults{path}", headers={"X-Control-Key": self.control_key},
                   json=body, timeout=10).raise_for_status()

    def _flag(self, name: str, *, on: bool) -> None:
        """Create (on) or remove (off) the flag file `name` that every harness process reads
        (resilience/fault_switches.py)."""
        flag = Path(self.env["RES_FLAG_DIR"]) / name
        if on:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)

    def core_fault(self, *, mode: str, group: str = "all", **knobs: Any) -> None:
        """Switch a fault of core route group `group` on or off."""
        body = {"group": group, "mode": mode, **knobs}
        self._core_control("", body)
        self._record("core_fault", **body)

    def faults_reset(self) -> None:
        from corebanking_mock.faults import FAULT_GROUPS

        for group in FAULT_GROUPS:
            self._core_control("", {"group": group, "mode": "up"})

    def mail_bug(self, *, on: bool) -> None:
        from resilience.fault_switches import MAIL_BUG_FLAG

        self._flag(MAIL_BUG_FLAG, on=on)
        self._record("mail_bug", on=on)

    def accounts_freeze(self, count: int, *, accounts: list[str] | None = None) -> list[str]:
        """Mark `accounts` (or the last `count` W0 accounts) FROZEN in core through the fault-control API."""
        frozen = list(accounts) if accounts is not None else (self.w0_accounts[-count:] if count else [])
        for account_id in frozen:
            self._core_control(f"/accounts/{account_id}", {"status": "FROZEN"})
        if frozen:
            self._record("accounts_freeze", accounts=frozen)
        return frozen

    def freeze_rotate(self, *, interval_s: float, count: int, until: str, timing: Timing) -> None:
        """E17: every `interval_s` thaw the accounts frozen last time and freeze `count` other random W0 accounts in
        core. The bank's read model learns a status only at its next core sync, so transfers accepted meanwhile
        meet a FROZEN account in core: a refused deposit (compensation) or a refused withdrawal (failed)."""
        import random

        end_at = self.t0 + timing.at(until)
        rng = random.Random(17)

        def loop() -> None:
            while not self._stop_periodic.is_set() and time.time() < end_at:
                self.accounts_thaw()
                self._frozen = self.accounts_freeze(0, accounts=rng.sample(self.w0_accounts, count))
                self._stop_periodic.wait(interval_s)

        thread = threading.Thread(target=loop, daemon=True, name="freeze-rotate")
        thread.start()
        self._threads.append(thread)

    def accounts_thaw(self) -> None:
        for account_id in getattr(self, "_frozen", []):
            self._core_control(f"/accounts/{account_id}", {"status": "ACTIVE"})
        self._frozen = []

    def create_account_stop(self, *, on: bool) -> None:
        """E9: the create_account consumer stops (on) or runs again (off)."""
        from resilience.fault_switches import CREATE_ACCOUNT_STOPPED_FLAG

        self._flag(CREATE_ACCOUNT_STOPPED_FLAG, on=on)
        self._record("create_account_stop", on=on)

    def web_reload(self) -> None:
        """E11: graceful gunicorn reload (SIGHUP: new workers start, old ones finish their requests)."""
        os.kill(self.web.pid, signal.SIGHUP)
        self._record("web_reload", pid=self.web.pid)

    def worker_warm_restart(self, *, role: str) -> None:
        """E11: start the new worker first, then stop the old one warmly (SIGTERM: it finishes its tasks)."""
        role = "shared" if "shared" in self.workers else role
        old = self.workers[role]
        started = time.monotonic()
        self.worker_start(role)
        os.kill(old.pid, signal.SIGTERM)
        try:
            old.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        self.procs.stop(old)
        self._record("worker_warm_restart", role=role, old_pid=old.pid, seconds=round(time.monotonic() - started, 1))

    def replay_dead_mail(self) -> None:
        """Replay every dead-lettered transfer-completed mail row through the staff API (the operator's fix)."""
        from outbox.models import OutboxMessage, OutboxStatus
        from transfers import events as ev

        ids = list(OutboxMessage.objects.filter(kind=ev.KIND_MAIL_COMPLETED, status=OutboxStatus.FAILED)
                   .values_list("id", flat=True))
        answers: dict[str, int] = {}
        for message_id in ids:
            response = httpx.post(f"{self.web_url}/v1/admin/outbox/{message_id}/replay",
                                  headers={"Authorization": f"Bearer {self.staff_token}"}, json={}, timeout=30)
            answers[str(response.status_code)] = answers.get(str(response.status_code), 0) + 1
        self.extra.setdefault("mails", {})["dead_lettered_during_bug"] = len(ids)
        self._record("replay_dead_mail", rows=len(ids), answers=answers)

    def kill_core_worker_every(self, *, interval_s: float, until: str, timing: Timing) -> None:
        """kill -9 the core worker's whole process group every `interval_s` until the anchor; restart at once
        (a supervisor's job), counting kills and restart times."""
        end_at = self.t0 + timing.at(until)
        kills: list[dict[str, Any]] = []
        self.extra.setdefault("e4", {})["worker_kills"] = 0

        def loop() -> None:
            while not self._stop_periodic.is_set() and time.time() < end_at:
                role = "shared" if "shared" in self.workers else "core"
                worker = self.workers.get(role)
                if worker is not None:
                    killed_at = time.monotonic()
                    try:
                        os.killpg(worker.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.procs.stop(worker)
                    self._record("kill_core_worker", pid=worker.pid)
                    self.worker_start(role)
                    kills.append({"t": round(time.time() - self.t0, 1),
                                  "restart_s": round(time.monotonic() - killed_at, 2)})
                    self.extra["e4"]["worker_kills"] = len(kills)
                    self.extra["e4"]["worker_restarts"] = kills
                self._stop_periodic.wait(interval_s)

        thread = threading.Thread(target=loop, daemon=True, name="worker-killer")
        thread.start()
        self._threads.append(thread)

    def web_master_kill(self) -> None:
        """kill -9 the gunicorn master; the supervisor (this harness) clears the orphaned workers like a
        cgroup stop would and starts gunicorn again; restart_s = kill → /healthz 200."""
        killed_at = time.monotonic()
        web = self.web
        os.kill(web.pid, signal.SIGKILL)
        self._record("web_master_kill", pid=web.pid)
        web.popen.wait(timeout=10)
        self.procs.stop(web)  # SIGKILL of the rest of its process group
        self.web_start()
        restart_s = round(time.monotonic() - killed_at, 2)
        self.extra.setdefault("e4", {})["web_restart_s"] = restart_s
        self.extra["e4"]["web_kill_t"] = round(time.time() - self.t0 - restart_s, 1)
        self._record("web_restarted", restart_s=restart_s)

    def web_instance_kill(self, *, down_s: float) -> None:
        """E4 with two instances: kill -9 the second web instance (its whole process group); the supervisor
        starts it again after `down_s`. The proxy's health check takes it out and back in."""
        web2 = self.web2
        killed_at = time.time()
        os.killpg(web2.pid, signal.SIGKILL)
        self.procs.stop(web2)
        self._record("web_instance_kill", pid=web2.pid)
        self.extra.setdefault("e4", {}).update({"instance_kill_t": round(killed_at - self.t0, 1)})
        self._stop_periodic.wait(down_s)
        restart_s = self.web_start(second=True)
        self.extra["e4"]["instance_down_s"] = round(time.time() - killed_at, 1)
        self._record("web_instance_restarted", startup_s=round(restart_s, 1))

    def db_block(self, *, seconds: float) -> None:
        """The bank database refuses every connection for `seconds` (its sessions are terminated). Only the
        harness's own database: the shared PostgreSQL server keeps running for everyone else."""
        import psycopg

        def block() -> None:
            started = time.time()
            with psycopg.connect(f"{environment.PG_SERVER}/postgres", autocommit=True) as connection:
                try:
                    connection.execute(f"ALTER DATABASE {BANK_DB} ALLOW_CONNECTIONS false")
                    connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = %s AND pid <> pg_backend_pid()", [BANK_DB])
                    self._record("db_block", seconds=seconds)
                    self._stop_periodic.wait(seconds)
                finally:
                    connection.execute(f"ALTER DATABASE {BANK_DB} ALLOW_CONNECTIONS true")
                    self._record("db_unblock")
            self.extra.setdefault("e4", {}).update({"db_block_t": round(started - self.t0, 1),
                                                    "db_block_s": round(time.time() - started, 1)})

        thread = threading.Thread(target=block, daemon=True, name="db-block")
        thread.start()
        self._threads.append(thread)

    def spike(self, *, rate: float, timing: Timing) -> None:
        seconds = timing.fault_end_s - timing.fault_start_s
        config = self._load_config(name="spike", rates={"spike_application": rate},
                                   users={"spike_application": SPIKE_USERS}, duplicates=False)
        child = self._locust_start("spike", config, classes=["SpikeApplicationUser"], users=SPIKE_USERS,
                                   seconds=seconds)
        self._record("spike", rate=rate, seconds=seconds, pid=child.pid)

    def periodic_stop(self) -> None:
        self._stop_periodic.set()
        for thread in self._threads:
            thread.join(120)
        self._threads.clear()
        self._stop_periodic.clear()

    # --- load ----------------------------------------------------------------------------------------------

    def _load_config(self, *, name: str, rates: dict[str, float], users: dict[str, int], duplicates: bool) -> Path:
        path = self.run_dir / f"load-{self._experiment_key}-{name}.json"
        out = self.run_dir / f"requests-{self._experiment_key}-{name}.jsonl"
        out.unlink(missing_ok=True)
        path.write_text(json.dumps({"tokens": self.tokens, "accounts": self.accounts, "staff_token": self.staff_token,
                                    "rates": rates, "users": users, "duplicates": duplicates, "out": str(out),
                                    "approve_after_s": 2.0, "not_sources": getattr(self, "_frozen", [])}))
        self._request_logs.append(out)
        return path

    def _locust_start(self, name: str, config: Path, *, classes: list[str], users: int, seconds: float) -> Child:
        child = self.procs.start(f"locust-{self._experiment_key}-{name}", [
            str(VENV_BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(max(users, 1)),
            "-t", f"{int(seconds)}s", "--host", self.web_url, "--only-summary", "--stop-timeout", "5",
            "--loglevel", "WARNING", *classes], env_extra={"RES_LOAD_CONFIG": str(config)})
        self._locusts.append(child)
        return child

    # --- one load experiment ---------------------------------------------------------------------------------

    def settle(self, *, timeout_s: float) -> dict[str, int]:
        """Faults off, bug off, then wait (bounded) until every transfer is terminal and the outbox is empty."""
        from django.db import connection

        from accounts.models import Application
        from outbox.models import OutboxMessage, OutboxStatus
        from transfers.models import Transfer

        connection.close()
        self.faults_reset()
        self.mail_bug(on=False)
        self.create_account_stop(on=False)
        deadline = time.monotonic() + timeout_s
        while True:
            left = {"transfers_open": Transfer.objects.filter(terminal=False).count(),
                    "outbox_open": OutboxMessage.objects.filter(
                        status__in=(OutboxStatus.PENDING, OutboxStatus.PROCESSING)).count(),
                    "applications_open": Application.objects.filter(status__in=("PENDING", "CONFIRMED")).count()}
            settled = left["transfers_open"] == 0 and left["outbox_open"] == 0
            if settled or time.monotonic() > deadline:
                return left
            time.sleep(1.0)

    def run_load(self, experiment: Experiment, variant: Variant) -> dict[str, Any]:
        """One run of a load experiment: W0 (+ steps) for the duration, drain, metrics, invariants, criteria."""
        from django.db import connection

        from resilience.analysis import core_balance_total, experiment_metrics
        from resilience.sampler import Sampler

        timing = experiment.timing(quick=self.quick)
        self._experiment_key = experiment.id + ("" if variant.name == "run" else f"-{variant.name}")
        self._request_logs: list[Path] = []
        self._locusts: list[Child] = []
        self.actions, self.extra, self.t0 = [], {}, 0.0
        if variant.stack != self.stack_options and (variant.stack or self.stack_options):
            log(f"   restarting web and workers for variant {variant.name}: {variant.stack}")
            self.stack_stop_app()
            self.stack_start(variant.stack)
            self.login_all()
        before = self.settle(timeout_s=120)
        connection.close()
        balance_before = core_balance_total(self.w0_accounts)
        start = _db_now()
        rates = experiment.load.get("rates") or (W0_RATES_QUICK if self.quick else W0_RATES)
        users = experiment.load.get("users") or W0_USERS
        classes = experiment.load.get("classes") or list(W0_CLASSES.values())
        duplicates = bool(experiment.load.get("duplicates"))
        self._frozen = self.accounts_freeze(experiment.load.get("frozen", 0))
        config = self._load_config(name="w0", rates=rates, users=users, duplicates=duplicates)
        self.t0 = time.time()
        sampler = Sampler(t0=self.t0, since=start)
        sampler.start()
        locust = self._locust_start("w0", config, classes=classes,
                                    users=sum(users.get(name, 0) for name, cls in W0_CLASSES.items() if cls in classes),
                                    seconds=timing.duration_s)
        log(f"== {self._experiment_key}: W0 {rates} for {timing.duration_s:g} s, fault window "
            f"{timing.fault_start_s:g}–{timing.fault_end_s:g} s")
        error = ""
        try:
            steps = sorted(experiment.steps, key=lambda step: timing.at(step.anchor, step.offset_s))
            for step in steps:
                due = self.t0 + timing.at(step.anchor, step.offset_s)
                if due - self.t0 >= timing.duration_s:
                    self._record("step_skipped", step=step.action, reason="due after the load ends")
                    continue
                while time.time() < due:
                    if locust.popen.poll() is not None and time.time() - self.t0 < timing.duration_s - 2:
                        raise ComponentError("Locust (W0)", f"exited early:\n{locust.log_tail()}")
                    time.sleep(min(0.2, max(0.0, due - time.time())))
                params = dict(step.params)
                if step.action in ("kill_core_worker_every", "spike", "freeze_rotate"):
                    params["timing"] = timing
                getattr(self, step.action)(**params)
            locust.popen.wait(timeout=timing.duration_s + 60 - (time.time() - self.t0) + 60)
            self.periodic_stop()
            for child in self._locusts:
                child.popen.wait(timeout=60)
            load_end = time.time() - self.t0
            left = self.settle(timeout_s=timing.drain_wait_s)
            drained_at = time.time() - self.t0
            self.accounts_thaw()
        finally:
            self.periodic_stop()
            samples = sampler.stop()
            for child in self._locusts:
                self.procs.stop(child)
        connection.close()
        records = [record for path in self._request_logs for record in m.requests_load(path)]
        good_samples = [sample for sample in samples if sample["ok"]]
        metrics = experiment_metrics(records=records, samples=good_samples, t0=self.t0, start=start, timing=timing,
                                     w0_accounts=self.w0_accounts, balance_before=balance_before,
                                     duplicates=duplicates, extra=self.extra)
        if "e4" in metrics:
            metrics["e4"].update(_e4_outages(records, t0=self.t0, extra=metrics["e4"]))
        metrics["invariants"] = invariants_run(self.env)
        metrics["drain"] = {"load_end_s": round(load_end, 1), "settled_at_s": round(drained_at, 1), "left": left,
                            "before": before}
        metrics["sampler_errors"] = sampler.errors
        series = m.per_second(records, t0=self.t0, duration_s=timing.duration_s)
        return {"variant": variant.name, "variant_note": variant.note, "stack": variant.stack,
                "timing": timing.__dict__, "rates": rates, "metrics": metrics, "actions": self.actions,
                "series": _compact_series(series), "samples": samples, "error": error}


def _db_now() -> dt.datetime:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _compact_series(series: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, list[Any]]]:
    """Column form (t, n, ok, p50, p95) per endpoint: small JSON, what the charts need."""
    return {endpoint: {"t": [row["t"] for row in rows], "n": [row["n"] for row in rows],
                       "ok": [row["ok"] for row in rows], "p50": [row["p50"] for row in rows],
                       "p95": [row["p95"] for row in rows]}
            for endpoint, rows in series.items()}


def _e4_outages(records: list[dict[str, Any]], *, t0: float, extra: dict[str, Any]) -> dict[str, Any]:
    """Whole-application outage seconds and failed requests around the web kill and the database block."""
    series = m.per_second(records, t0=t0)
    seconds_all: dict[int, list[int]] = {}
    for rows in series.values():
        for row in rows:
            totals = seconds_all.setdefault(row["t"], [0, 0])
            totals[0] += row["n"]
            totals[1] += row["ok"]
    result: dict[str, Any] = {}
    for name, start_key, length in (("web", "web_kill_t", extra.get("web_restart_s", 0) + 10),
                                    ("db", "db_block_t", extra.get("db_block_s", 0) + 15),
                                    ("instance", "instance_kill_t", extra.get("instance_down_s", 0) + 10)):
        if start_key not in extra:
            continue
        start = extra[start_key]
        window = [(second, totals) for second, totals in seconds_all.items() if start <= second < start + length]
        result[f"{name}_outage_s"] = sum(1 for _, (n, ok) in window if n and ok == 0)
        result[f"{name}_failed_requests"] = sum(n - ok for _, (n, ok) in window)
        result[f"{name}_requests_in_window"] = sum(n for _, (n, _ok) in window)
        result[f"{name}_error_rate"] = m.ratio(result[f"{name}_failed_requests"], result[f"{name}_requests_in_window"])
    return result


def invariants_run(env: dict[str, str]) -> dict[str, Any]:
    """`manage.py check_invariants` in a child process: exit code, failing codes, output."""
    completed = subprocess.run([PYTHON, "manage.py", "check_invariants"], cwd=REPO_ROOT, env=env,
                               capture_output=True, text=True, timeout=600)
    failing = [line.split()[1] for line in completed.stdout.splitlines() if line.startswith("FAIL")]
    return {"exit_code": completed.returncode, "failed": len(failing) if failing or completed.returncode == 0
            else 1, "failing": failing, "output": (completed.stdout + completed.stderr)[-4000:]}


def static_run(experiment: Experiment, *, quick: bool, out_dir: Path) -> dict[str, Any]:
    """Call the experiment's function (imported now); NOT RUN with the reason when it cannot be imported."""
    module_name, function_name = experiment.call.split(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        return {"error": f"{experiment.call} unavailable ({type(exc).__name__}: {exc})", "metrics": {}, "notes": []}
    kwargs = dict(experiment.call_kwargs_quick if quick and experiment.call_kwargs_quick else experiment.call_kwargs)
    if "out_dir" in function.__code__.co_varnames[:function.__code__.co_argcount + function.__code__.co_kwonlyargcount]:
        kwargs["out_dir"] = out_dir
    started = time.monotonic()
    try:
        result = function(**kwargs)
    except Exception as exc:  # noqa: BLE001 - reported as the experiment's error
        return {"error": f"{experiment.call} raised {type(exc).__name__}: {exc}", "metrics": {}, "notes": [],
                "traceback": traceback.format_exc()[-3000:]}
    return {"metrics": result.get("metrics", {}), "notes": result.get("notes", []), "error": "",
            "seconds": round(time.monotonic() - started, 1)}


# --- the run -----------------------------------------------------------------------------------------------------


def experiment_result(experiment: Experiment, *, runs: list[dict[str, Any]] | None = None,
                      static: dict[str, Any] | None = None, error: str = "") -> dict[str, Any]:
    """The record of one experiment: its data (hypothesis, method, …), runs, criteria and verdict."""
    if experiment.kind == "todo":
        error = error or "not implemented in this harness yet"
    metrics: dict[str, Any] = {}
    if runs:
        metrics = runs[0]["metrics"] if len(runs) == 1 else {run["variant"]: run["metrics"] for run in runs}
        error = error or "; ".join(run["error"] for run in runs if run.get("error"))
    if static is not None:
        metrics = static.get("metrics", {})
        error = error or static.get("error", "")
    criteria = [] if error else registry.criteria_evaluate(experiment.criteria, metrics)
    return {"id": experiment.id, "title": experiment.title, "dimension": experiment.dimension,
            "kind": experiment.kind, "hypothesis": experiment.hypothesis, "method": experiment.method,
            "rollback": experiment.rollback, "original": experiment.original,
            "criteria": criteria, "verdict": registry.verdict(criteria, error=error), "metrics": metrics,
            "runs": runs or [], "notes": (static or {}).get("notes", []), "error": error}


def print_verdicts(results: list[dict[str, Any]]) -> None:
    for result in results:
        print(f"{result['id']:<4} {result['verdict']:<6} {result['title']}")
        for criterion in result["criteria"]:
            value = criterion["value"]
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            kind = " [timing target]" if criterion.get("timing") else ""
            print(f"       {'PASS' if criterion['passed'] else 'FAIL'}  {criterion['label']}{kind}  (measured {shown})")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="resilience run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", help="comma-separated ids (default: the priority set, or the quick set)")
    parser.add_argument("--quick", action="store_true", help="short windows, smaller load (CI): E1, E16, E18")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results folder (default {DEFAULT_OUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    selected = registry.experiments_select(args.experiments, quick=args.quick)
    environment.requirements_install(REQUIREMENTS, modules=("matplotlib",), executables=("locust",))
    started_at = dt.datetime.now(dt.UTC)
    stamp = f"{started_at:%Y%m%dT%H%M%SZ}"
    out_dir = args.out.resolve()
    run_dir = out_dir / f"run-{stamp}"
    (run_dir / "var" / "static").mkdir(parents=True, exist_ok=True)
    (run_dir / "flags").mkdir(exist_ok=True)
    load_experiments = [experiment for experiment in selected if experiment.kind == "load"]
    results: list[dict[str, Any]] = []
    wall = time.monotonic()
    secret_values = environment.random_secrets()
    from config.settings.outbox import OUTBOX_BATCH_SIZE

    world_env = environment.WorldEnvironment(
        bank_db=BANK_DB, core_db=CORE_DB, redis_db=REDIS_DB, core_port=environment.free_port(),
        batch_size=OUTBOX_BATCH_SIZE, settings_module="resilience.settings", var_dir=run_dir / "var")
    env = {**world_env.child_env(secret_values), "ALLOWED_HOSTS": "127.0.0.1,localhost",
           # The read throttle (per customer) is off like the login one: the load's 10 customers read far more
           # often than a person does, and a 429 there would measure the throttle, not the fault.
           "JWT_ACCESS_TOKEN_MINUTES": "600", "THROTTLE_LOGIN_RATE": "", "THROTTLE_READ_RATE": "",
           "LOG_LEVEL": "WARNING",
           "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
           "EMAIL_FILE_PATH": str(run_dir / "mail"), "RES_FLAG_DIR": str(run_dir / "flags"),
           "CELERY_BEAT_SCHEDULE_FILENAME": str(run_dir / "var" / "celerybeat-schedule")}
    log(f"resilience run {stamp}: {', '.join(experiment.id for experiment in selected)} "
        f"({'quick' if args.quick else 'full'}); databases {BANK_DB}, {CORE_DB}; redis db {REDIS_DB}; out {run_dir}")
    from resilience.run_facts import git_commit, machine_info

    result_path = out_dir / f"resilience-{stamp}{'-quick' if args.quick else ''}.json"
    record: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"), "quick": args.quick,
        "commit": git_commit(),
        "machine": machine_info(), "stack": {
            "web": f"gunicorn gthread {WEB_WORKERS} workers × {WEB_THREADS} threads, keep-alive 30 s",
            "workers": f"celery core -c {CORE_CONCURRENCY}; celery notify,default -c {NOTIFY_CONCURRENCY}; beat",
            "core_mock": "gunicorn gthread 2 × 8 (own process, fault switch on)",
            "w0": {"accounts": CUSTOMERS * ACCOUNTS_PER_CUSTOMER, "rates": W0_RATES_QUICK if args.quick else W0_RATES,
                   "load_tool": "Locust (headless subprocess, FastHttpUser)"}},
        "experiments": results}

    def record_write(*, partial: bool) -> None:
        """Written after every experiment, so an interrupted run keeps what it measured."""
        record["duration_s"] = round(time.monotonic() - wall)
        record["partial"] = partial
        result_path.write_text(json.dumps(record, indent=1, default=str))

    stack_error = ""
    if load_experiments:
        try:
            environment.databases_recreate((BANK_DB, CORE_DB))
        except Exception as exc:  # noqa: BLE001
            stack_error = f"could not start PostgreSQL databases {BANK_DB}/{CORE_DB}: {exc}"
        if not stack_error:
            try:
                environment.django_prepare(env)
                environment.redis_flush(world_env.broker_url)
            except Exception as exc:  # noqa: BLE001
                stack_error = f"could not prepare Django/Redis (migrate, seed_core, flush db {REDIS_DB}): {exc}"
    with Processes(log_dir=run_dir / "logs", env=env) as procs:
        harness = Harness(procs=procs, env=env, world_env=world_env, control_key=secret_values["CORE_MOCK_CONTROL_KEY"],
                          run_dir=run_dir, quick=args.quick)
        try:
            if load_experiments and not stack_error:
                try:
                    harness.core_mock_start()
                    harness.world_seed()
                    harness.stack_start()
                    harness.login_all()
                except ComponentError as exc:
                    stack_error = str(exc)
                    log(f"!! {stack_error}")
            for experiment in load_experiments:
                if stack_error:
                    results.append(experiment_result(experiment, error=stack_error.splitlines()[0]))
                    continue
                runs = []
                try:
                    for variant in experiment.variants:
                        runs.append(harness.run_load(experiment, variant))
                except ComponentError as exc:
                    log(f"!! {exc}")
                    results.append(experiment_result(experiment, runs=runs, error=str(exc).splitlines()[0]))
                    continue
                except Exception as exc:  # noqa: BLE001 - one broken experiment must not lose the others' results
                    log(f"!! {experiment.id} failed: {traceback.format_exc()}")
                    results.append(experiment_result(experiment, runs=runs,
                                                     error=f"harness error {type(exc).__name__}: {exc}"))
                    continue
                result = experiment_result(experiment, runs=runs)
                results.append(result)
                record_write(partial=True)
                print_verdicts([result])
                sys.stdout.flush()
        finally:
            procs.stop_all()
            if load_experiments and not stack_error:
                environment.redis_flush(world_env.broker_url)
    for experiment in selected:
        if experiment.kind == "load":
            continue
        if experiment.kind == "todo":
            results.append(experiment_result(experiment))
            continue
        log(f"== {experiment.id}: {experiment.call}")
        results.append(experiment_result(experiment, static=static_run(experiment, quick=args.quick,
                                                                        out_dir=run_dir)))
        record_write(partial=True)
    record_write(partial=False)
    print("\n== verdicts")
    print_verdicts(results)
    print(f"\nresults: {result_path}\nwall time: {record['duration_s']} s")
    failed = [result["id"] for result in results if result["verdict"] != "PASS"]
    if failed:
        print(f"not passed: {', '.join(failed)}")
    # Quick mode is the CI gate: an experiment that could not run, an invariant violation or any failed
    # correctness criterion fails it; timing targets (drain, latency ratios) are reported, not gated, there.
    gate = [result["id"] for result in results if result["verdict"].startswith("NOT RUN")
            or registry.gate_failed(result["criteria"], quick=args.quick)]
    if gate and args.quick:
        print(f"quick gate failed by: {', '.join(gate)}")
    return 1 if gate and args.quick else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every started process was stopped", file=sys.stderr)
        sys.exit(130)
