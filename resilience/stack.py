"""The harness's stack and world: the processes of a run (core mock, gunicorn web, optionally a second instance
behind HAProxy, Celery workers per role, beat), each started, checked ready and stopped by pid; and W0's seeded
world (100 funded accounts, logins, a staff login).
"""
from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from resilience import environment
from resilience.environment import REPO_ROOT, VENV_BIN
from resilience.processes import Child, Processes, wait_for_log

# The run's own databases and Redis db (created, flushed and dropped by the harness). The environment can move them,
# so that two runs on one server (say, two checkouts) never flush each other's world.
_WORLD = os.environ.get("RESILIENCE_DB_PREFIX", "bench_res")
BANK_DB, CORE_DB = f"{_WORLD}_bank", f"{_WORLD}_core"
REDIS_DB = int(os.environ.get("RESILIENCE_REDIS_DB", "12"))
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
# How long a stopped worker may take to finish its drains before its process group is killed (as stopwaitsecs
# of `make run`'s worker in config/supervisord.conf).
WORKER_STOP_GRACE_SECONDS = 30.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class ComponentError(RuntimeError):
    """A component of the stack could not be started: which one and why."""

    def __init__(self, component: str, reason: str) -> None:
        super().__init__(f"could not start {component}: {reason}")
        self.component = component


class Stack:
    """One run's processes and seeded world; FaultActions and Harness (load_run.py) build on it."""

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

    def web_start(self, *, second: bool = False, workers: int | None = None) -> float:
        """gunicorn web (the second instance behind the proxy when `second`; `workers` processes instead of the
        stack's, for E6); returns seconds until /healthz answered."""
        self.restarts += 1
        env_extra = {}
        if "throttle_write" in self.stack_options:
            env_extra["THROTTLE_WRITE_RATE"] = self.stack_options["throttle_write"]
        port = self.web2_port if second else self.web_port
        workers = workers or (WEB_WORKERS // 2 if self.stack_options.get("proxy") else WEB_WORKERS)
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

    def worker_start(self, role: str, *, release_dir: Path | None = None, concurrency: int | None = None) -> Child:
        """`core` (queue core, concurrency 4), `notify` (queues notify + default, 2) or `shared` (every queue),
        running the code of `release_dir` (a copy of the repository) when given, else of this one; `concurrency`
        prefork processes instead of the role's (E6)."""
        queues, default = {"core": ("core", CORE_CONCURRENCY), "notify": ("notify,default", NOTIFY_CONCURRENCY),
                           "shared": ("core,notify,default", CORE_CONCURRENCY)}[role]
        concurrency = concurrency or default
        self.restarts += 1
        name = f"worker-{role}-{self.restarts}"
        worker = self.procs.start(name, [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", queues,
                                         "--concurrency", str(concurrency), "--pool", "prefork",
                                         "--hostname", f"{name}@%h", "--loglevel", "INFO"],
                                  cwd=release_dir,
                                  env_extra={"PYTHONPATH": str(release_dir)} if release_dir else None)
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
            # Warmly, as supervisord stops `make run`'s worker (its stopwaitsecs): the drains in hand finish.
            self.procs.stop(worker, grace_seconds=WORKER_STOP_GRACE_SECONDS)
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
        from outbox.core_banking import client as core_client

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
