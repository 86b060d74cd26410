"""Child processes of a run: start, wait until ready, stop by pid.

Every child runs in its own session, so stopping it (SIGTERM to the child, then SIGKILL to its process group)
reaches its whole process tree through its own pid and nothing else. Used by the resilience harness and by the
benchmarks (bench/procs.py adds their load-child protocol and CPU accounting).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    """One started process: its name, Popen handle and log file."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """Starts the benchmark's processes and guarantees they are stopped (use as a context manager)."""

    log_dir: Path
    env: dict[str, str]
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], *, env_extra: dict[str, str] | None = None,
              piped: bool = False, cwd: Path | None = None) -> Child:
        """Start `argv` with the run's environment (in `cwd`, default this process's); stderr (and stdout unless
        `piped`) go to a log file."""
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("ab")
        popen = subprocess.Popen(
            argv, env={**self.env, **(env_extra or {})}, start_new_session=True, stderr=log_file,
            stdout=subprocess.PIPE if piped else log_file, stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
            text=piped, bufsize=1 if piped else -1, cwd=cwd,
        )
        log_file.close()
        child = Child(name=name, popen=popen, log_path=log_path)
        self.children.append(child)
        return child

    def stop(self, child: Child, *, grace_seconds: float = 15.0) -> None:
        """SIGTERM the child itself, SIGKILL its whole process group once it has exited or after the grace period.

        The SIGTERM goes to the child's own pid only, as a process manager stops a program: a Celery worker then
        lets its pool children finish their drains (warm shutdown) and a gunicorn master stops its workers
        gracefully. SIGTERM to the group would reach the pool children too and kill them mid-drain, leaving their
        claimed rows to lease expiry (a mail then becomes a dead letter, "delivery unknown")."""
        if child.popen.poll() is None:
            try:
                os.kill(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                child.popen.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                _signal_group(child.pid, signal.SIGKILL)
                child.popen.wait(timeout=5)
        # Leftover grandchildren of a group whose leader exited (e.g. prefork pool processes).
        _signal_group(child.pid, signal.SIGKILL)
        for stream in (child.popen.stdin, child.popen.stdout):
            if stream is not None:
                stream.close()
        if child in self.children:
            self.children.remove(child)

    def kill(self, child: Child) -> None:
        """A crash, not a stop: SIGKILL the child's whole process group at once, then reap it."""
        _signal_group(child.pid, signal.SIGKILL)
        self.stop(child)

    def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            self.stop(child)

    def __enter__(self) -> Processes:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def wait_for_log(child: Child, pattern: str, *, timeout: float) -> None:
    """Wait until the child's log matches `pattern`; raise with the log tail if it exits or times out."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.log_path.exists() and regex.search(child.log_path.read_text(errors="replace")):
            return
        if child.popen.poll() is not None:
            raise RuntimeError(f"{child.name} exited with {child.popen.returncode}:\n{child.log_tail()}")
        time.sleep(0.1)
    raise TimeoutError(f"{child.name} did not log {pattern!r} within {timeout}s:\n{child.log_tail()}")
