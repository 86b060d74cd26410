"""Pure aggregation of what a resilience run recorded (no Django, no I/O besides reading JSONL).

- Request records (one per HTTP request, written by the locustfile): {"t": epoch s, "e": endpoint, "s": status,
  "ms": latency}. `per_second` buckets them by whole second since the experiment start, per endpoint;
  `window_stats` summarises a time window (availability = share of 2xx, latency percentiles).
- Samples (one per second, written by the sampler): {"t": s since start, "outbox": {...}, "transfers": {...}}.
  `drain_seconds` finds when the backlog is back to its baseline after a fault.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(len(ordered) * pct / 100))
    return ordered[min(rank, len(ordered)) - 1]


def is_ok(status: int) -> bool:
    return 200 <= status < 300


def requests_load(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON line of a request log (a torn last line from a killed writer is skipped)."""
    records = []
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def per_second(records: list[dict[str, Any]], *, t0: float, duration_s: float | None = None
               ) -> dict[str, list[dict[str, Any]]]:
    """{endpoint: [{t, n, ok, availability, p50, p95, max, codes}, …]} for every second 0 … last (empty seconds
    included with n = 0, so gaps show as gaps and not as interpolation)."""
    buckets: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    last = 0
    for record in records:
        second = int(math.floor(record["t"] - t0))
        if second < 0 or (duration_s is not None and second >= duration_s):
            continue
        buckets[record["e"]][second].append(record)
        last = max(last, second)
    if duration_s is not None:
        last = max(last, int(duration_s) - 1)
    series: dict[str, list[dict[str, Any]]] = {}
    for endpoint, by_second in sorted(buckets.items()):
        rows = []
        for second in range(last + 1):
            items = by_second.get(second, [])
            latencies = [item["ms"] for item in items]
            ok = sum(1 for item in items if is_ok(item["s"]))
            codes: dict[str, int] = defaultdict(int)
            for item in items:
                codes[str(item["s"])] += 1
            rows.append({"t": second, "n": len(items), "ok": ok,
                         "availability": ok / len(items) if items else None,
                         "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                         "max": max(latencies) if latencies else None, "codes": dict(codes)})
        series[endpoint] = rows
    return series


def window_stats(records: list[dict[str, Any]], *, t0: float, start_s: float, end_s: float
                 ) -> dict[str, dict[str, Any]]:
    """Per endpoint, over requests started in [start_s, end_s) since t0: n, ok, availability, p50/p95/p99/max
    latency (ms) and status counts."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        offset = record["t"] - t0
        if start_s <= offset < end_s:
            grouped[record["e"]].append(record)
    stats = {}
    for endpoint, items in sorted(grouped.items()):
        latencies = [item["ms"] for item in items]
        ok = sum(1 for item in items if is_ok(item["s"]))
        codes: dict[str, int] = defaultdict(int)
        for item in items:
            codes[str(item["s"])] += 1
        stats[endpoint] = {"n": len(items), "ok": ok, "availability": ok / len(items),
                           "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                           "p99": percentile(latencies, 99), "max": max(latencies), "codes": dict(codes)}
    return stats


def outage_seconds(series: list[dict[str, Any]], *, start_s: float = 0, end_s: float = math.inf) -> int:
    """Seconds in [start_s, end_s) in which an endpoint had requests and none of them succeeded."""
    return sum(1 for row in series if start_s <= row["t"] < end_s and row["n"] and row["ok"] == 0)


def drain_seconds(samples: list[dict[str, Any]], *, after_s: float, level: float, key: str = "open") -> float | None:
    """Seconds from `after_s` until the outbox backlog (samples' outbox[key]) is back at or below `level`,
    staying there for the next sample too; None when it never is."""
    later = [sample for sample in samples if sample["t"] >= after_s]
    for index, sample in enumerate(later):
        following = later[index + 1:index + 2]
        if sample["outbox"][key] <= level and all(item["outbox"][key] <= level for item in following):
            return round(sample["t"] - after_s, 1)
    return None


def backlog_baseline(samples: list[dict[str, Any]], *, before_s: float, key: str = "open") -> float:
    """The backlog the system carries in normal operation: twice the median of the samples before the fault,
    at least 2 rows (rows in flight at the sampling instant), so 'drained' means 'back to normal', not
    'exactly empty', without letting one busy sample define normal."""
    values = [sample["outbox"][key] for sample in samples if sample["t"] < before_s]
    return max(2.0, 2 * (percentile(values, 50) or 0.0))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
