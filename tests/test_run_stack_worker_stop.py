"""Stopping the worker of `make run` (a restart for a release, or Ctrl-C) lets the drain it is running finish.

supervisord sends SIGTERM to the Celery worker's main process only, which stops taking tasks and waits for its
pool to finish the task in hand (Celery's warm shutdown). A SIGTERM to the worker's whole process group would
reach the pool child too and kill it in the middle of its core call: the withdrawal would then stay in flight
until its lease expired, and a mail in the same position would become a dead letter ("delivery unknown"),
because nobody can tell whether it was sent. The full E5 run of the resilience harness found 72 such dead mails
from restarts between its variants.
"""
from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fixtures.fault_scenario import DEMO_PASSWORD, USER_ACCOUNTS
from tests.fixtures.run_stack import ROOT, RunStack

pytestmark = pytest.mark.slow

CORE_LATENCY_MS = 3000  # long enough to stop the worker while a call is in flight; under the client's 5 s timeout


def _make_ctl(stack: RunStack, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "ctl", f"CMD={command}"], cwd=ROOT,
                          env=stack.environment(), capture_output=True, text=True, timeout=120)


def _status_when(client: httpx.Client, token: str, transaction_id: str, wanted: Callable[[dict[str, Any]], bool],
                 *, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/v1/api/transfers/{transaction_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        body = response.json()
        if wanted(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"transfer {transaction_id} never reached the wanted state; last seen {body}")


def test_a_stopped_worker_finishes_the_core_call_in_flight_before_it_exits(stack_setup, tmp_path):
    # The prefork pool (PostgreSQL + Redis) is the setup whose children a group SIGTERM would kill; the embedded
    # default's thread pool lives in the worker's one process, and is held to the same behaviour.
    stack = RunStack(var_dir=tmp_path / "var", log_path=tmp_path / "run.log", extra_env=stack_setup).start()
    try:
        stack.wait_healthy()
        with httpx.Client(base_url=stack.web_url, timeout=10) as client:
            login = client.post("/v1/api/auth/login", json={"loginId": "user001", "password": DEMO_PASSWORD})
            assert login.status_code == 200, login.text
            token = login.json()["token"]
            # given every core call takes 3 s
            stack.core_faults.set(latency_ms=CORE_LATENCY_MS)
            # and a transfer whose withdrawal is being posted in core right now
            accepted = client.post("/v1/api/transfer", headers={"Authorization": f"Bearer {token}"}, json={
                "sourceAccountId": USER_ACCOUNTS["user001"], "targetAccountId": USER_ACCOUNTS["user002"],
                "amount": 1_000})
            assert accepted.status_code == 202, accepted.text
            transaction_id = accepted.json()["transactionId"]
            in_flight = _status_when(client, token, transaction_id,
                                     lambda body: body["status"] == "processing" and body["leg"] == "WITHDRAW")

            # when the worker is stopped the way supervisord stops it
            stopped = _make_ctl(stack, "stop worker")

            # then it stopped only after recording core's answer to the call it was making
            assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stdout + stopped.stderr
            assert stack.worker_mains() == [] and stack.worker_pool_children() == []
            settled = _status_when(client, token, transaction_id, lambda body: True)
            assert settled["version"] > in_flight["version"], (in_flight, settled)
            assert (settled["status"], settled["leg"]) != ("processing", "WITHDRAW"), settled
            # and no task was killed under it
            assert "WorkerLostError" not in stack.log_path.read_text(errors="replace")

            # when the worker is started again with core back to normal, the transfer completes
            stack.core_faults.reset()
            assert _make_ctl(stack, "start worker").returncode == 0
            done = _status_when(client, token, transaction_id, lambda body: body["terminal"])
            assert done["status"] == "completed", done
    finally:
        survivors = stack.stop()
    assert survivors == [], stack.log_tail()
