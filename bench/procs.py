"""Child processes of the benchmark: start, wait until ready, stop by pid; the go/report protocol; CPU accounting.

Every child runs in its own session, so stopping it (SIGTERM, then SIGKILL after a grace period) reaches its
whole process tree through its own pid and nothing else. Load children (raw loop, HTTP load) follow a small
line protocol on stdin/stdout: print `ready`, wait for `go`, work, print one JSON line, wait for stdin to close.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
              piped: bool = False) -> Child:
        """Start `argv` with the bench environment; stderr (and stdout unless `piped`) go to a log file."""
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("ab")
        popen = subprocess.Popen(
            argv, env={**self.env, **(env_extra or {})}, start_new_session=True, stderr=log_file,
            stdout=subprocess.PIPE if piped else log_file, stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
            text=piped, bufsize=1 if piped else -1,
        )
        log_file.close()
        child = Child(name=name, popen=popen, log_path=log_path)
        self.children.append(child)
        return child

    def stop(self, child: Child, *, grace_seconds: float = 15.0) -> None:
        """SIGTERM the child's process group (its own pid), SIGKILL it after the grace period."""
        if child.popen.poll() is None:
            _signal_group(child.pid, signal.SIGTERM)
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


# --- the load children's line protocol --------------------------------------------------------------


def child_wait_for_go() -> None:
    """In a load child: announce readiness and block until the parent says go."""
    print("ready", flush=True)
    sys.stdin.readline()


def child_report(result: dict[str, Any]) -> None:
    """In a load child: print the result as one JSON line, then stay alive until the parent closes stdin
    (so the parent can read this process's CPU time before it exits)."""
    print(json.dumps(result), flush=True)
    sys.stdin.read()


def _read_line(child: Child, *, timeout: float) -> str:
    stdout = child.popen.stdout
    ready, _, _ = select.select([stdout], [], [], timeout)
    line = stdout.readline() if ready else ""
    if not line:
        raise RuntimeError(f"{child.name} sent nothing within {timeout}s:\n{child.log_tail()}")
    return line.strip()


def children_await_ready(children: list[Child], *, timeout: float = 60.0) -> None:
    """Wait until every load child said `ready`."""
    for child in children:
        if _read_line(child, timeout=timeout) != "ready":
            raise RuntimeError(f"{child.name} did not say ready:\n{child.log_tail()}")


def children_go(children: list[Child]) -> None:
    """Release every (ready) load child at once."""
    for child in children:
        child.popen.stdin.write("go\n")
        child.popen.stdin.flush()


def children_results(children: list[Child], *, timeout: float) -> list[dict[str, Any]]:
    """The JSON result line of every load child."""
    return [json.loads(_read_line(child, timeout=timeout)) for child in children]


def children_measure(procs: Processes, children: list[Child], *, roots: dict[str, list[int]],
                     timeout: float) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Release the load children together once all are ready, collect their reports and the CPU use of
    `roots` over that window, then stop them (also on error)."""
    try:
        children_await_ready(children)
        meter = CpuMeter(roots).start()
        children_go(children)
        reports = children_results(children, timeout=timeout)
        return reports, meter.stop()
    finally:
        for child in children:
            procs.stop(child)


# --- CPU accounting ------------------------------------------------------------------------------------


def _process_table() -> dict[int, tuple[int, str, int]]:
    """{pid: (ppid, comm, CPU ticks)} of every live process. The ticks include the reaped children's
    (cutime, cstime), so short-lived processes (e.g. a PostgreSQL backend per connection) still count."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), comm, sum(int(value) for value in fields[11:15]))
    return table


def _machine_ticks() -> dict[str, int]:
    """Jiffies of all CPUs since boot: `processes` (user, nice, system), `interrupts` (irq, softirq),
    `steal` (taken by the hypervisor for other guests) and `total`."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return {"processes": user + nice + system, "interrupts": irq + softirq, "steal": steal, "total": sum(values)}


def _labelled_ticks(roots: dict[str, list[int]]) -> dict[int, tuple[str, int]]:
    """{pid: (label, CPU ticks)}: the root pids of each label with all their descendants, plus every postgres
    and redis process."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    labelled = {pid: (label, ticks) for pid, (_, comm, ticks) in table.items()
                for label, prefix in (("postgres", "postgres"), ("redis", "redis-server")) if comm.startswith(prefix)}
    for label, pids in roots.items():
        stack = list(pids)
        while stack:
            pid = stack.pop()
            if pid in table:
                labelled[pid] = (label, table[pid][2])
            stack.extend(children.get(pid, ()))
    return labelled


def machine_busy_share(seconds: float) -> float:
    """Share (0-1) of all CPUs busy (processes, interrupts, steal) over the next `seconds`."""
    start = _machine_ticks()
    time.sleep(seconds)
    end = _machine_ticks()
    busy = sum(end[name] - start[name] for name in ("processes", "interrupts", "steal"))
    return busy / max(end["total"] - start["total"], 1)


@dataclass
class CpuMeter:
    """CPU core-seconds used between start() and stop() by labelled process trees, by this benchmark process
    (and helpers it started without a label), by PostgreSQL (every database of the server) and Redis, and by
    everything else: other processes ("not the bench": other users of a shared machine), interrupts, and
    steal (the hypervisor's other guests)."""

    roots: dict[str, list[int]]
    _start: dict[int, tuple[str, int]] = field(default_factory=dict)
    _machine: dict[str, int] = field(default_factory=dict)
    _wall: float = 0.0

    def _all_roots(self) -> dict[str, list[int]]:
        return {"bench": [os.getpid()], **self.roots}  # later labels take their subtrees from earlier ones

    def start(self) -> CpuMeter:
        self._start, self._machine = _labelled_ticks(self._all_roots()), _machine_ticks()
        self._wall = time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        """Core-seconds per label (processes alive at the end, or exited and reaped by one of the same label, as
        PostgreSQL backends are by the postmaster), busy share, wall."""
        end, machine = _labelled_ticks(self._all_roots()), _machine_ticks()
        ticks_by_label: dict[str, int] = {label: 0 for label in (*self.roots, "bench", "postgres", "redis")}
        for pid, (label, ticks) in end.items():
            ticks_by_label[label] += ticks - self._start.get(pid, (label, 0))[1]
        for pid, (label, ticks) in self._start.items():
            if pid not in end:  # exited: its parent's reaped-children ticks now hold its whole life, not only ours
                ticks_by_label[label] -= ticks
        delta = {name: machine[name] - self._machine[name] for name in machine}
        ticks_by_label["not the bench"] = max(delta["processes"] - sum(ticks_by_label.values()), 0)
        ticks_by_label["interrupts"], ticks_by_label["steal"] = delta["interrupts"], delta["steal"]
        used = {label: round(ticks / CLOCK_TICKS, 2) for label, ticks in ticks_by_label.items()}
        busy = delta["processes"] + delta["interrupts"] + delta["steal"]
        used["machine_busy_pct"] = round(100 * busy / max(delta["total"], 1), 1)
        used["wall_s"] = round(time.monotonic() - self._wall, 2)
        return used
