"""The fault actions the experiments' steps name (core faults, flags, kills, reloads, database block, spike):
each is a method of the harness, recorded with its time since the load started.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from resilience import environment
from resilience.criteria import Timing
from resilience.stack import (
    BANK_DB,
    SPIKE_USERS,
    Stack,
    log,
)


class FaultActions(Stack):
    """The actions named by the experiments' steps."""


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
        self.procs.stop(old, grace_seconds=60)  # SIGTERM to the worker itself: it finishes its tasks, then exits
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
                    self.procs.kill(worker)
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
        self.procs.kill(web2)
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
