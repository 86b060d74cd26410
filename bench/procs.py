"""Load children of the benchmark and CPU accounting. Starting and stopping children (Child, Processes,
wait_for_log) is resilience.processes'.

Load children (raw loop, HTTP load) follow a small line protocol on stdin/stdout: print `ready`, wait for `go`,
work, print one JSON line, wait for stdin to close.
"""
from __future__ import annotations

import json
import os
import select
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resilience.processes import Child, Processes

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
