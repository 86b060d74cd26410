"""The README's run command, `make run`, on the embedded default in a temporary var dir.

It starts the supervised stack (web, core mock, Celery worker, beat) and checks: both /healthz answer and the
demo data is seeded; every process killed by hand comes back within seconds while the site stays up; the
request throttle's counters are shared by the web workers; and Ctrl-C stops every process, leaving none behind.
"""
from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from tests.fixtures.run_stack import CORE_KEY, RunStack, pid_alive, process_table

pytestmark = pytest.mark.slow

LOGIN_RATE_PER_MINUTE = 4


def _wait_for_new_pid(stack: RunStack, old_pid: int, *words: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mains = [pid for pid in stack.pids_matching(*words) if pid != old_pid
                 and stack.processes().get(pid) and _is_program_main(stack, pid)]
        if mains:
            return mains[0]
        time.sleep(0.2)
    raise AssertionError(f"{' '.join(words)} did not come back within {timeout}s:\n{stack.log_tail()}")


def _is_program_main(stack: RunStack, pid: int) -> bool:
    """True for a program's main process (a direct child of supervisord), not a gunicorn worker or pool child."""
    table = process_table()
    parent = table.get(pid, (0, ""))[0]
    return "supervisord" in table.get(parent, (0, ""))[1]


def _program_main(stack: RunStack, *words: str) -> int:
    mains = [pid for pid in stack.pids_matching(*words) if _is_program_main(stack, pid)]
    assert len(mains) == 1, (words, stack.processes())
    return mains[0]


@pytest.fixture
def run_stack(tmp_path):
    stack = RunStack(var_dir=tmp_path / "var", log_path=tmp_path / "run.log",
                     extra_env={"THROTTLE_LOGIN_RATE": f"{LOGIN_RATE_PER_MINUTE}/min"})
    stack.start()
    yield stack
    stack.stop()


def test_make_run_serves_restarts_what_dies_shares_throttles_and_ctrl_c_stops_everything(run_stack):
    stack = run_stack
    # given the stack is up
    stack.wait_healthy()
    web = httpx.get(f"{stack.web_url}/healthz", timeout=5).json()
    assert web == {"status": "ok", "service": "web", "database": "ok", "broker": "ok"}
    assert httpx.get(f"{stack.core_url}/healthz", timeout=5).json()["database"] == "ok"
    # then the core mock serves the seeded demo account, and the log names the demo logins
    account = httpx.get(f"{stack.core_url}/api/accounts/0011234567", headers={"X-API-Key": CORE_KEY}, timeout=5)
    assert account.status_code == 200
    assert account.json()["balance"] == 10_000_000
    assert "demo customers user001 / password123" in stack.log_path.read_text(errors="replace")

    # when each supervised process is SIGKILLed in turn
    for words in (("gunicorn", "config.wsgi:"), ("gunicorn", "config.wsgi_core:"), ("celery", "worker"),
                  ("celery", "beat")):
        victim = _program_main(stack, *words)
        os.kill(victim, signal.SIGKILL)
        # then it is back within seconds, with a new pid
        replacement = _wait_for_new_pid(stack, victim, *words)
        assert not pid_alive(victim)
        # and the site answers again (the web app answers throughout unless it was the one killed)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{stack.web_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(f"site down after killing {words}:\n{stack.log_tail()}")
        assert pid_alive(replacement)

    # when one client logs in more often than the login rate, over fresh connections (spread over both web
    # workers)
    answers = []
    for _ in range(LOGIN_RATE_PER_MINUTE + 4):
        with httpx.Client(base_url=stack.web_url, timeout=10) as client:
            answers.append(client.post("/v1/api/auth/login",
                                       json={"loginId": "user001", "password": "password123"}).status_code)
    # then exactly the rate is let through: both workers count in one shared cache
    assert answers.count(200) == LOGIN_RATE_PER_MINUTE, answers
    assert set(answers[LOGIN_RATE_PER_MINUTE:]) == {429}, answers

    # when Ctrl-C is pressed (SIGINT to the foreground process group)
    survivors = stack.stop()
    # then every process the stack ever ran has exited
    assert survivors == [], stack.log_tail()
    assert stack.process.returncode is not None
