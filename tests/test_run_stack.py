"""Smoke test of the README's run command: `make run` on the embedded default in a temporary var dir.

It starts the honcho stack (web, core mock, Celery worker, beat), waits for both /healthz, checks the
seeded demo data over HTTP, then sends Ctrl-C (SIGINT to the process group) and checks every process ended.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.stack import NOT_INHERITED, free_port, group_alive

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _wait_healthy(url: str, deadline: float, process: subprocess.Popen, log_path: Path) -> dict:
    last_error = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response.json()
            last_error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last_error = type(exc).__name__
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy in time ({last_error})")


def test_make_run_starts_every_process_and_ctrl_c_stops_them(tmp_path):
    # given an empty var dir, free ports and no database/broker server configured
    web_port, core_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(BANK_VAR_DIR=str(tmp_path / "var"), WEB_PORT=str(web_port), CORE_PORT=str(core_port),
               CORE_BANKING_API_KEY="smoke-core-key", DEMO_STAFF_PASSWORD="smoke-staff-pass")
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    pgid = process.pid
    try:
        # when both processes answer their health checks
        deadline = time.monotonic() + 120
        web = _wait_healthy(f"http://127.0.0.1:{web_port}/healthz", deadline, process, log_path)
        core = _wait_healthy(f"http://127.0.0.1:{core_port}/healthz", deadline, process, log_path)
        # then databases and broker are up, and the core mock serves the seeded demo account
        assert web == {"status": "ok", "service": "web", "database": "ok", "broker": "ok"}
        assert core["database"] == "ok"
        account = httpx.get(f"http://127.0.0.1:{core_port}/api/accounts/0011234567",
                            headers={"X-API-Key": "smoke-core-key"}, timeout=5)
        assert account.status_code == 200
        assert account.json()["balance"] == 10_000_000
        # and the worker and beat came up
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log_path.read_text(errors="replace")
            if "ready." in text and "celery beat v" in text:
                break
            time.sleep(0.5)
        text = log_path.read_text(errors="replace")
        assert "ready." in text, text[-3000:]
        assert "celery beat v" in text, text[-3000:]
        assert "demo customers user001 / password123" in text
    finally:
        # when Ctrl-C is pressed (SIGINT to the foreground process group)
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGINT)
        try:
            process.wait(timeout=45)
        finally:
            stopped_in_time = not group_alive(pgid)
            if not stopped_in_time:
                os.killpg(pgid, signal.SIGKILL)
    # then every process of the stack has exited
    assert stopped_in_time, log_path.read_text(errors="replace")[-3000:]
