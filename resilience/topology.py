"""E19's deployment topologies of the SAME code (config.wsgi, the same settings, the same Celery app): harness
configuration only, no application code changes.

- `single`: HAProxy → one gunicorn pool (4 workers × 4 threads) serving every route; one Celery worker for every
  queue (core, notify, default; concurrency 6).
- `bulkheads`: HAProxy routes by path to three gunicorn pools of the same WSGI app — `read` (balance, history,
  login, pages; 2 workers), `transfers` (1 worker) and `accounts` (account opening, approvals, registration and
  every staff/admin route; 1 worker) — and one Celery worker group per queue: core (4), notify (1), default (1).

Both topologies have the same capacity (4 web workers × 4 threads, 6 Celery processes) and the same proxy hop, so
the comparison measures the partitioning alone. The route→pool map is data (ROUTE_RULES, first match wins, `read`
is the default); `pool_for_path` and the HAProxy config are generated from the same rules, and a test checks the
map against every URL pattern of config/urls.py.
"""
from __future__ import annotations

import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resilience import environment
from resilience.criteria import Timing
from resilience.environment import VENV_BIN
from resilience.fault_actions import FaultActions
from resilience.processes import Child, wait_for_log
from resilience.stack import WEB_THREADS, WEB_WORKERS, ComponentError, log


@dataclass(frozen=True)
class Pool:
    """One gunicorn instance of config.wsgi (a web pool) and the share of the web workers it gets."""

    name: str
    workers: int
    serves: str


@dataclass(frozen=True)
class WorkerGroup:
    """One Celery worker (a process group) consuming `queues` with `concurrency` prefork processes."""

    role: str
    queues: str
    concurrency: int


TOPOLOGIES: dict[str, dict[str, Any]] = {
    "single": {
        "pools": (Pool("single", WEB_WORKERS, "every route"),),
        "workers": (WorkerGroup("shared", "core,notify,default", 6),),
    },
    "bulkheads": {
        "pools": (Pool("read", 2, "balance, history, login, customer pages (the default)"),
                  Pool("transfers", 1, "transfer requests, transfer status, transfer pages"),
                  Pool("accounts", 1, "account opening and approval, registration, every staff/admin route")),
        "workers": (WorkerGroup("core", "core", 4), WorkerGroup("notify", "notify", 1),
                    WorkerGroup("default", "default", 1)),
    },
}
DEFAULT_POOL = "read"
# Route → pool (bulkheads), first match wins; anything unmatched goes to DEFAULT_POOL. The regexes are plain
# POSIX/PCRE-compatible so the same text serves HAProxy's `path_reg` and Python's `re.match`.
ROUTE_RULES: tuple[tuple[str, str], ...] = (
    # GET /v1/api/accounts/{accountId}/transactions is history (balance app), not account opening.
    ("read", r"^/v1/api/accounts/[^/]+/transactions$"),
    ("accounts", r"^/v1/api/accounts(/|$)"),
    ("accounts", r"^/v1/api/users/register$"),
    ("accounts", r"^/v1/admin/"),
    ("accounts", r"^/admin(/|$)"),
    ("accounts", r"^/apply(/|$)"),
    ("transfers", r"^/v1/api/transfers?(/|$)"),
    ("transfers", r"^/transfers?(/|$)"),
)


def pool_for_path(path: str, *, topology: str = "bulkheads") -> str:
    """The pool HAProxy sends `path` to in `topology` (same first-match rules as the generated config)."""
    if topology == "single":
        return "single"
    for pool, pattern in ROUTE_RULES:
        if re.match(pattern, path):
            return pool
    return DEFAULT_POOL


def haproxy_config(*, topology: str, frontend_port: int, pool_ports: dict[str, int]) -> str:
    """HAProxy config: one backend per pool (health check GET /healthz every second, out after 3 failures), path
    ACLs from ROUTE_RULES in the bulkheads topology. A failed connection is retried (never a request already
    sent)."""
    pools = [pool.name for pool in TOPOLOGIES[topology]["pools"]]
    lines = ["global", "  maxconn 1024", "defaults", "  mode http", "  timeout connect 2s", "  timeout client 60s",
             "  timeout server 60s", "  retries 2", "  option redispatch", "frontend bank",
             f"  bind 127.0.0.1:{frontend_port}"]
    if topology == "bulkheads":
        for index, (pool, pattern) in enumerate(ROUTE_RULES):
            lines += [f"  acl rule{index} path_reg {pattern}", f"  use_backend {pool} if rule{index}"]
        lines.append(f"  default_backend {DEFAULT_POOL}")
    else:
        lines.append(f"  default_backend {pools[0]}")
    for pool in pools:
        lines += [f"backend {pool}", "  option httpchk GET /healthz", "  http-check expect status 200",
                  # One server per backend: unlike E4b's failover check (fall 1 after 0.5 s), a busy server is
                  # not ejected (that would turn slowness into 503s); a dead one refuses connections anyway.
                  "  timeout check 5s", "  default-server inter 1s fall 3 rise 1",
                  f"  server {pool}1 127.0.0.1:{pool_ports[pool]} check"]
    return "\n".join([*lines, ""])


def topology_describe(topology: str) -> str:
    """One line for the report: the pools with their workers and the worker groups."""
    spec = TOPOLOGIES[topology]
    pools = ", ".join(f"{pool.name} ({pool.workers}×{WEB_THREADS}: {pool.serves})" for pool in spec["pools"])
    workers = ", ".join(f"{group.role} -Q {group.queues} -c {group.concurrency}" for group in spec["workers"])
    return f"HAProxy → {pools}; Celery {workers}"


class TopologyActions(FaultActions):
    """Starts and stops a topology of E19 (variant stack option `topology`) and E19's account-opening faults.
    Without `topology` every method falls through to the standard stack."""

    # --- processes -----------------------------------------------------------------------------------------

    def stack_start(self, options: dict[str, Any] | None = None) -> None:
        topology = (options or {}).get("topology")
        if topology is None:
            super().stack_start(options)
            return
        self.stack_options = dict(options or {})
        self.pools: dict[str, tuple[Child, int]] = {}
        for pool in TOPOLOGIES[topology]["pools"]:
            self.pool_start(pool.name)
        self.web, self.web_port = self.pools[TOPOLOGIES[topology]["pools"][0].name]
        binary = shutil.which("haproxy")
        if binary is None:
            raise ComponentError("HAProxy", "not installed (apt-get install -y haproxy)")
        config = self.run_dir / f"haproxy-{topology}.cfg"
        config.write_text(haproxy_config(topology=topology, frontend_port=self.proxy_port,
                                         pool_ports={name: port for name, (_child, port) in self.pools.items()}))
        self.proxy = self.procs.start(f"haproxy-{topology}", [binary, "-db", "-f", str(config)])
        self._http_ready(f"http://127.0.0.1:{self.proxy_port}/healthz", self.proxy, component="HAProxy")
        for group in TOPOLOGIES[topology]["workers"]:
            self.worker_group_start(group)
        if self.beat is None:
            self.beat_start()
        log(f"stack up ({topology}): {topology_describe(topology)}; beat; core mock :{self.world_env.core_port}")

    def pool_start(self, name: str) -> float:
        """gunicorn config.wsgi for pool `name` (same flags as the single web of stack.py, its share of the
        workers); seconds until its /healthz answered."""
        topology = self.stack_options["topology"]
        pool = next(pool for pool in TOPOLOGIES[topology]["pools"] if pool.name == name)
        port = self.pools[name][1] if name in self.pools else environment.free_port()
        self.restarts += 1
        env_extra = {"THROTTLE_WRITE_RATE": self.stack_options["throttle_write"]} \
            if "throttle_write" in self.stack_options else {}
        child = self.procs.start(f"web-{name}-{self.restarts}", [
            str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", str(pool.workers), "--threads", str(WEB_THREADS),
            "--log-level", "warning", "--graceful-timeout", "5", "--keep-alive", "30"], env_extra=env_extra)
        self.pools[name] = (child, port)
        return self._http_ready(f"http://127.0.0.1:{port}/healthz", child, component=f"web pool {name}")

    def worker_group_start(self, group: WorkerGroup) -> Child:
        self.restarts += 1
        name = f"worker-{group.role}-{self.restarts}"
        worker = self.procs.start(name, [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", group.queues,
                                         "--concurrency", str(group.concurrency), "--pool", "prefork",
                                         "--hostname", f"{name}@%h", "--loglevel", "INFO"])
        try:
            wait_for_log(worker, r"ready\.", timeout=90)
        except (RuntimeError, TimeoutError) as exc:
            raise ComponentError(f"Celery worker {group.role} ({group.queues})", str(exc)) from exc
        self.workers[group.role] = worker
        return worker

    def stack_stop_app(self) -> None:
        for child, _port in getattr(self, "pools", {}).values():
            self.procs.stop(child)
        if getattr(self, "pools", None):
            self.web = None  # one of the pools, stopped above
        self.pools = {}
        super().stack_stop_app()

    # --- E19's faults ----------------------------------------------------------------------------------------

    def cpu_hog(self, *, on: bool, ms: int = 2500) -> None:
        """The account-opening handler burns `ms` of CPU per request while on (resilience/fault_switches.py)."""
        from resilience.fault_switches import CPU_HOG_FLAG

        self._flag(CPU_HOG_FLAG, on=on)
        if on:
            (Path(self.env["RES_FLAG_DIR"]) / CPU_HOG_FLAG).write_text(str(ms))
        self._record("cpu_hog", on=on, ms=ms)

    def pool_crash_loop(self, *, pool: str, start_s: float, end_s: float, interval_s: float) -> None:
        """From `start_s` to `end_s` (since the load started): kill -9 the pool's whole process group, the
        supervisor (this harness) starts it again at once, `interval_s` after the kill it crashes again. No kill
        later than `interval_s / 2` before `end_s`, so the last restart falls inside the window."""
        e19 = self.extra.setdefault("e19", {})
        crashes = e19.setdefault("crash_restarts", [])
        due = self.t0 + start_s
        while not self._stop_periodic.is_set() and time.time() < self.t0 + end_s - interval_s / 2:
            child, _port = self.pools[pool]
            killed_at = time.monotonic()
            self.procs.kill(child)
            self._record("pool_crash", pool=pool, pid=child.pid)
            self.pool_start(pool)
            crashes.append({"t": round(time.time() - self.t0, 1), "down_s": round(time.monotonic() - killed_at, 2)})
            e19["crashes"] = len(crashes)
            due = max(due + interval_s, time.time() + 1.0)
            while time.time() < due and not self._stop_periodic.wait(min(0.5, max(0.0, due - time.time()))):
                pass

    def e19_faults(self) -> None:
        """The three faults of E19, each in its own window (one thread each, joined by periodic_stop): CPU hog in
        the account-opening handler, crash loop of the pool serving account opening, E5's application spike."""
        from resilience.experiments_bulkheads import PHASES_FULL, PHASES_QUICK

        phases = PHASES_QUICK if self.quick else PHASES_FULL
        pool = "accounts" if self.stack_options.get("topology") == "bulkheads" else "single"

        def at(second: float) -> bool:
            """Wait until `second` since the load started by the wall clock the request log uses (short waits: on
            this VM the monotonic clock behind Event.wait fell 12 s behind it once); False when stopping."""
            while (left := self.t0 + second - time.time()) > 0:
                if self._stop_periodic.wait(min(left, 0.5)):
                    return False
            return not self._stop_periodic.is_set()

        def hog() -> None:
            try:
                if at(phases["hog"][0]):
                    self.cpu_hog(on=True, ms=phases["hog_ms"])
                    at(phases["hog"][1])
            finally:
                self.cpu_hog(on=False)

        def crash() -> None:
            try:
                if at(phases["crash"][0]):
                    self.pool_crash_loop(pool=pool, start_s=phases["crash"][0], end_s=phases["crash"][1],
                                         interval_s=phases["crash_every_s"])
            except ComponentError as exc:  # a pool that does not come back is a finding, not a harness crash
                self.extra.setdefault("e19", {})["fault_error"] = str(exc).splitlines()[0]
                log(f"!! E19 crash loop: {exc}")

        def spike() -> None:
            start, end = phases["spike"]
            if at(start):
                self.spike(rate=phases["spike_rate"], timing=Timing(duration_s=end, fault_start_s=start,
                                                                    fault_end_s=end))

        for name, target in (("hog", hog), ("crash", crash), ("spike", spike)):
            thread = threading.Thread(target=target, daemon=True, name=f"e19-{name}")
            thread.start()
            self._threads.append(thread)
