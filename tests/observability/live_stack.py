"""A live stack for the observability tests, started without `make run`: migrate + seed in a temporary var dir
(embedded SQLite + filesystem broker), then gunicorn for the web app and the core mock and one Celery worker
with embedded beat, on free 127.0.0.1 ports, every process in one new process group (stopped by its id).
Tracing goes to the `file` exporter and /metrics needs a bearer token, as in a production configuration."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.stack import NOT_INHERITED, free_port, group_alive

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
METRICS_TOKEN = "observability-test-metrics-token"
CONTROL_KEY = "dev-core-control-key-not-for-production"  # the DEBUG default of CORE_MOCK_CONTROL_KEY
START_TIMEOUT_SECONDS = 150


@dataclass
class LiveStack:
    var_dir: Path
    log_path: Path
    web_port: int
    core_port: int
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def core_url(self) -> str:
        return f"http://127.0.0.1:{self.core_port}"

    @property
    def spans_path(self) -> Path:
        return self.var_dir / "traces" / "spans.jsonl"

    def metrics(self, base_url: str) -> str:
        response = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        response.raise_for_status()
        return response.text

    def manage(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120, check=check)

    def core_faults(self, mode: str) -> None:
        response = httpx.post(f"{self.core_url}/core/_faults", json={"group": "all", "mode": mode},
                              headers={"X-Control-Key": CONTROL_KEY}, timeout=10)
        assert response.status_code == 200, response.text

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

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None and group_alive(process.pid):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
            if group_alive(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def live_stack_start(tmp_path: Path) -> LiveStack:
    """Prepare the databases and start web, core mock and worker; returns once all answer (or raises)."""
    var_dir = tmp_path / "var"
    web_port, core_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(BANK_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings.local", PYTHONUNBUFFERED="1",
               PATH=f"{VENV_BIN}:{env.get('PATH', '')}", CORE_BANKING_URL=f"http://127.0.0.1:{core_port}",
               CORE_MOCK_FAULTS_ENABLED="true", METRICS_BEARER_TOKEN=METRICS_TOKEN, TRACING_EXPORTER="file",
               LOG_FORMAT="json", EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend")
    for name in ("PROMETHEUS_MULTIPROC_DIR", "BANK_PROCESS_GROUP", "METRICS_DIR", "TRACING_FILE"):
        env.pop(name, None)
    stack = LiveStack(var_dir=var_dir, log_path=tmp_path / "stack.log", web_port=web_port, core_port=core_port,
                      env=env)
    for args in (("migrate", "--noinput", "-v", "0"), ("migrate", "--database", "core", "--noinput", "-v", "0"),
                 ("seed_demo", "-v", "0")):
        result = stack.manage(*args)
        assert result.returncode == 0, result.stdout + result.stderr
    commands = [
        [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{web_port}",
         "--worker-class", "gthread", "--workers", "2", "--threads", "4", "--access-logfile", "-"],
        [str(VENV_BIN / "gunicorn"), "config.wsgi_core:application", "--bind", f"127.0.0.1:{core_port}",
         "--worker-class", "gthread", "--workers", "1", "--threads", "4"],
        [str(VENV_BIN / "celery"), "-A", "config", "worker", "-B", "--queues", "core,notify,default",
         "--concurrency", "1", "--hostname", f"obs-{web_port}@%h", "--loglevel", "INFO"],
    ]
    log = stack.log_path.open("a")
    try:
        for command in commands:
            stack.processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                    stdin=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for url in (f"{stack.web_url}/healthz", f"{stack.core_url}/healthz"):
            _wait_ok(url, deadline, stack)
        while time.monotonic() < deadline and " ready." not in stack.log_path.read_text(errors="replace"):
            _all_running(stack)
            time.sleep(0.5)
        assert " ready." in stack.log_path.read_text(errors="replace"), stack.log_tail()
    except BaseException:
        stack.stop()
        raise
    finally:
        log.close()
    return stack


def _all_running(stack: LiveStack) -> None:
    for process in stack.processes:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[:2]} exited with {process.returncode}:\n{stack.log_tail()}")


def _wait_ok(url: str, deadline: float, stack: LiveStack) -> None:
    last = ""
    while time.monotonic() < deadline:
        _all_running(stack)
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy in time ({last}):\n{stack.log_tail()}")
