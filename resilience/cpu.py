"""CPU accounting from /proc: core-seconds used over a window by labelled process trees, PostgreSQL, Redis and
everything else on the machine (other users of a shared box, interrupts, hypervisor steal).

Used by the resilience harness (E6 scaling) and by the benchmarks (bench/procs.py re-exports it with the label
"bench" for its own process).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def postgres_database_from_title(title: str) -> str:
    """The database a PostgreSQL backend serves, from its process title ("postgres: [CLUSTER: ]USER DB
    HOST(PORT) STATE", Debian adding the cluster name "15/main:"); "" for the server's own processes
    (checkpointer, WAL writer, …)."""
    words = title.split()
    if not words or words[0] != "postgres:":
        return ""
    words = words[2:] if len(words) > 1 and words[1].endswith(":") else words[1:]
    return words[1] if len(words) >= 3 and "(" in words[2] else ""


def _postgres_database(pid: int) -> str:
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
    return postgres_database_from_title(title)


def _labelled_ticks(roots: dict[str, list[int]], *, own_databases: tuple[str, ...] = ()
                    ) -> dict[int, tuple[str, int]]:
    """{pid: (label, CPU ticks)}: the root pids of each label with all their descendants, plus every postgres
    and redis process. With `own_databases`, the backends serving those databases are labelled "postgres" and
    every other postgres process "postgres (other databases)", so a shared server's other users are not counted
    as this run's database work."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    labelled = {}
    for pid, (_, comm, ticks) in table.items():
        if comm.startswith("postgres"):
            label = "postgres"
            if own_databases and _postgres_database(pid) not in own_databases:
                label = "postgres (other databases)"
            labelled[pid] = (label, ticks)
        elif comm.startswith("redis-server"):
            labelled[pid] = ("redis", ticks)
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
    """CPU core-seconds used between start() and stop() by labelled process trees, by this process (and helpers
    it started without a label: `self_label`), by PostgreSQL and Redis, and by everything else: other processes
    (`others_label`: other users of a shared machine), interrupts, and steal (the hypervisor's other guests).
    `own_databases` splits PostgreSQL into this run's databases and the rest of the server."""

    roots: dict[str, list[int]]
    self_label: str = "harness"
    others_label: str = "not this run"
    own_databases: tuple[str, ...] = ()
    _start: dict[int, tuple[str, int]] = field(default_factory=dict)
    _machine: dict[str, int] = field(default_factory=dict)
    _wall: float = 0.0

    def _all_roots(self) -> dict[str, list[int]]:
        return {self.self_label: [os.getpid()], **self.roots}  # later labels take their subtrees from earlier ones

    def _ticks(self) -> dict[int, tuple[str, int]]:
        return _labelled_ticks(self._all_roots(), own_databases=self.own_databases)

    def start(self) -> CpuMeter:
        self._start, self._machine = self._ticks(), _machine_ticks()
        self._wall = time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        """Core-seconds per label (processes alive at the end, or exited and reaped by one of the same label, as
        PostgreSQL backends are by the postmaster), busy share, wall."""
        end, machine = self._ticks(), _machine_ticks()
        labels = (*self.roots, self.self_label, "postgres", "redis",
                  *(("postgres (other databases)",) if self.own_databases else ()))
        ticks_by_label: dict[str, int] = {label: 0 for label in labels}
        for pid, (label, ticks) in end.items():
            ticks_by_label[label] += ticks - self._start.get(pid, (label, 0))[1]
        for pid, (label, ticks) in self._start.items():
            if pid not in end:  # exited: its parent's reaped-children ticks now hold its whole life, not only ours
                # A PostgreSQL backend is reaped by the postmaster, which serves no database: with the server split
                # by database, its life is counted under the postmaster's label, so the correction goes there too
                # (an exited backend's window is then "other databases": never negative, at worst misplaced).
                if label == "postgres" and self.own_databases:
                    label = "postgres (other databases)"
                ticks_by_label[label] -= ticks
        delta = {name: machine[name] - self._machine[name] for name in machine}
        ticks_by_label[self.others_label] = max(delta["processes"] - sum(ticks_by_label.values()), 0)
        ticks_by_label["interrupts"], ticks_by_label["steal"] = delta["interrupts"], delta["steal"]
        used = {label: round(ticks / CLOCK_TICKS, 2) for label, ticks in ticks_by_label.items()}
        busy = delta["processes"] + delta["interrupts"] + delta["steal"]
        used["machine_busy_pct"] = round(100 * busy / max(delta["total"], 1), 1)
        used["wall_s"] = round(time.monotonic() - self._wall, 2)
        return used
