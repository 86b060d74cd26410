"""The `make run` stack (tests/fixtures/run_stack.py) configured the way the observability tests read it: JSON log
lines, tracing to the `file` exporter (`<var dir>/traces/spans.jsonl`), /metrics behind a bearer token as in a
production configuration, and the core mock's fault switches on. Plus the few customer calls the tests make."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.run_stack import ROOT, RunStack

__all__ = ["METRICS_TOKEN", "ROOT", "LiveStack", "live_stack_start"]

METRICS_TOKEN = "observability-test-metrics-token"
START_TIMEOUT_SECONDS = 180
OBSERVABILITY_ENV = {
    "CORE_MOCK_FAULTS_ENABLED": "true", "METRICS_BEARER_TOKEN": METRICS_TOKEN, "TRACING_EXPORTER": "file",
    "LOG_FORMAT": "json", "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
}


@dataclass
class LiveStack(RunStack):
    @property
    def spans_path(self) -> Path:
        return self.var_dir / "traces" / "spans.jsonl"

    def metrics(self, base_url: str) -> str:
        response = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        response.raise_for_status()
        return response.text

    def login(self, login_id: str = "user001", password: str = "password123") -> str:
        response = httpx.post(f"{self.web_url}/v1/api/auth/login", json={"loginId": login_id, "password": password},
                              timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def transfer(self, token: str, amount: int = 1000) -> str:
        response = httpx.post(f"{self.web_url}/v1/api/transfer", headers={"Authorization": f"Bearer {token}"},
                              json={"sourceAccountId": "0011234567", "targetAccountId": "0017654321",
                                    "amount": amount}, timeout=10)
        assert response.status_code in (200, 201, 202), response.text
        return response.json()["transactionId"]

    def transfer_wait(self, token: str, transaction_id: str, status: str = "completed",
                      timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = httpx.get(f"{self.web_url}/v1/api/transfers/{transaction_id}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
            if body.get("status") == status:
                return body
            time.sleep(0.3)
        raise AssertionError(f"transfer {transaction_id} not {status} in time: {body}")

    def log_records(self) -> list[dict[str, Any]]:
        """Every JSON line the stack's processes wrote (stdout and stderr)."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    pass
        return records

    def spans(self) -> list[dict[str, Any]]:
        if not self.spans_path.exists():
            return []
        return [json.loads(line) for line in self.spans_path.read_text().splitlines() if line.strip()]


def live_stack_start(tmp_path: Path) -> LiveStack:
    """`make run` in a temporary var dir on free ports; returns once web, core, worker and beat are up (or raises,
    with the stack stopped)."""
    stack = LiveStack(var_dir=tmp_path / "var", log_path=tmp_path / "stack.log", extra_env=dict(OBSERVABILITY_ENV))
    stack.start()
    try:
        stack.wait_healthy(timeout=START_TIMEOUT_SECONDS)
    except BaseException:
        stack.stop()
        raise
    return stack
