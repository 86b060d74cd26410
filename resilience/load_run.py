"""One run of a load experiment: W0 with Locust (plus the experiment's timed steps), drain, metrics,
invariants; and the pure helpers that shape its series and the E4 outage figures.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from resilience import metrics as m
from resilience.criteria import Experiment, Variant
from resilience.debug_probes import DebugActions
from resilience.environment import REPO_ROOT, VENV_BIN
from resilience.processes import Child
from resilience.stack import (
    LOCUSTFILE,
    PYTHON,
    W0_CLASSES,
    W0_RATES,
    W0_RATES_QUICK,
    W0_USERS,
    ComponentError,
    log,
)
from resilience.topology import TopologyActions


class Harness(DebugActions, TopologyActions):
    """One run: processes, seeded world, the fault actions the experiments name, and the load experiments."""

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
            # The rollback comes before the drain: an account still FROZEN in core refuses the refund that a
            # compensation owes it, so that transfer could not end inside the drain wait (E17's full run: one
            # refund retried against a frozen source until the wait ran out).
            self.accounts_thaw()
            left = self.settle(timeout_s=timing.drain_wait_s)
            drained_at = time.time() - self.t0
            self.release_finish()
            self.debug_finish()
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
        phases = experiment.load.get("phases_quick" if self.quick else "phases")
        if phases:  # E19: per route statistics of each fault window against the run's own baseline window
            from resilience.experiments_bulkheads import phase_metrics

            metrics["phases"] = phase_metrics(records, t0=self.t0, phases=phases)
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
