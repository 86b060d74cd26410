"""Measures of `bench/transfers.py --embedded` (bench/tx_embedded.py) that the PostgreSQL run takes with
PostgreSQL's SQL: accepted → completed latencies and completions through the ORM (SQLite has no `EXTRACT`,
`->>` on text or `clock_timestamp()`), the core queue's backlog beside every queue's, each process's peak RSS, and
CPU per completed transfer of the stack's groups."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from bench import environment
from bench.procs import _process_table
from bench.transfers import BacklogSampler, percentile

STACK_GROUPS = ("web", "relay worker", "beat", "core mock")


def _tree(roots: dict[str, list[int]]) -> dict[str, list[int]]:
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    groups: dict[str, list[int]] = {}
    for label, pids in roots.items():
        stack, members = list(pids), groups.setdefault(label, [])
        while stack:
            pid = stack.pop()
            if pid in table and pid not in members:
                members.append(pid)
                stack.extend(children.get(pid, ()))
    return groups


def peak_rss_per_process(roots: dict[str, list[int]]) -> dict[str, list[float]]:
    """Each live process's peak resident set since it started (VmHWM, MiB), by group, largest first."""
    peaks: dict[str, list[float]] = {}
    for label, pids in _tree(roots).items():
        values = []
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            values += [round(int(line.split()[1]) / 1024, 1) for line in status.splitlines()
                       if line.startswith("VmHWM:")]
        peaks[label] = sorted(values, reverse=True)
    return peaks


def e2e_latencies(*, sources: list[str], since: dt.datetime) -> dict[str, Any]:
    """accepted (TransferRequested) → completed (TransferCompleted), both `recorded_at` (the database's clock:
    `Now()`, millisecond precision on SQLite), as bench/transfers.py's PostgreSQL query, through the ORM."""
    from outbox.eventstore.models import Event

    wanted = set(sources)
    requested = {aggregate: at for aggregate, at, data in Event.objects.filter(
        type="TransferRequested", recorded_at__gte=since).values_list("aggregate_id", "recorded_at", "data")
        if data.get("sourceAccountId") in wanted}
    completed = dict(Event.objects.filter(type="TransferCompleted", recorded_at__gte=since,
                                          ).values_list("aggregate_id", "recorded_at"))
    done = sorted((completed[a] - at).total_seconds() * 1000 for a, at in requested.items() if a in completed)
    everything = done + [float("inf")] * (len(requested) - len(done))
    accepted = list(requested.values())
    span = (max(accepted) - min(accepted)).total_seconds() if len(accepted) > 1 else 0.0
    return {"accepted": len(requested), "completed": len(done), "not_completed": len(requested) - len(done),
            "accepted_rate": (len(requested) - 1) / span if span else None,
            "latency_ms": {f"p{pct:g}": percentile(everything, pct) for pct in (50, 95, 99)}
            | {"max": everything[-1] if everything else None}}


def completions_since(since: dt.datetime) -> dict[str, Any]:
    """TransferCompleted events since `since`: count, and the rate between the first and the last."""
    from django.db.models import Count, Max, Min

    from outbox.eventstore.models import Event

    row = Event.objects.filter(type="TransferCompleted", recorded_at__gte=since).aggregate(
        count=Count("id"), first=Min("recorded_at"), last=Max("recorded_at"))
    span = (row["last"] - row["first"]).total_seconds() if row["count"] > 1 else 0.0
    return {"completed": row["count"], "span_s": round(span, 2), "rate": (row["count"] - 1) / span if span else None}


class CoreBacklogSampler(BacklogSampler):
    """bench/transfers.py's sampler (open rows of every queue, once a second), plus the open rows of the core queue
    alone (the transfers' legs; the rest are the completion mails of the notify queue)."""

    def __init__(self) -> None:
        super().__init__()
        self.core_samples: list[tuple[float, int]] = []

    def run(self) -> None:
        from django.db import connection

        from outbox.models import OutboxMessage

        try:
            while not self.stop_event.is_set():
                at = time.monotonic() - self.started_at
                self.samples.append((at, environment.outbox_open_count()))
                self.core_samples.append((at, OutboxMessage.objects.filter(
                    queue="core", status__in=("pending", "processing")).count()))
                self.stop_event.wait(1.0)
        finally:
            connection.close()


def per_completed(cpu: dict[str, float], completed: int) -> dict[str, float]:
    per = {label: round(cpu[label] * 1000 / completed, 2) for label in STACK_GROUPS if label in cpu and completed}
    return {**per, "total": round(sum(per.values()), 2)} if per else {}
