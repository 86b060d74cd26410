"""E6 scaling on one box, the pure part: from the measured points of a curve (a rate at each process count, CPU
per process group, PostgreSQL lock-wait samples) the efficiency, CPU per unit of work, where the curve flattens
and why — a rule with named thresholds, so the cause is read from the measurements, not written as prose.

A point is {"n": processes, "rate": units/s, "units": units done, "cpu": CpuMeter.stop() of its window,
"pg": pg_activity_summary(...)}. Measuring the points (stack, backlog, wrk) is resilience/scaling_run.py's.
"""
from __future__ import annotations

from typing import Any

# A step to the next process count (each count doubles the previous one here) that adds less than this factor of
# throughput is flat: 1.15 = less than 15 % more for twice the processes.
FLAT_GAIN_MIN = 1.15
# Both cores busy: the machine's busy share (processes + interrupts + steal) over the point's window, in %.
CPU_SATURATED_PCT = 90.0
# Database locks: share of this run's active PostgreSQL backends (sampled several times a second) waiting on a
# heavyweight lock (row, tuple, transaction id: wait_event_type = 'Lock').
LOCK_WAIT_SHARE_MIN = 0.20
# Database waits other than row locks: share of active backends waiting on an LWLock (e.g. WALWrite at commit,
# buffer mapping) or on I/O (e.g. WAL or data file sync).
DB_WAIT_SHARE_MIN = 0.20
# The core mock is the bottleneck when, with the CPU saturated, it used at least this share of the CPU that this
# run's processes used.
CORE_MOCK_SHARE_MIN = 0.30
# The measurement is disturbed when processes not of this run (another user of the shared machine) took at least
# this share of the machine's busy CPU.
OTHER_LOAD_SHARE_MIN = 0.25

THRESHOLDS = {"flat_gain_min": FLAT_GAIN_MIN, "cpu_saturated_pct": CPU_SATURATED_PCT,
              "lock_wait_share_min": LOCK_WAIT_SHARE_MIN, "db_wait_share_min": DB_WAIT_SHARE_MIN,
              "core_mock_share_min": CORE_MOCK_SHARE_MIN,
              "other_load_share_min": OTHER_LOAD_SHARE_MIN}

# CpuMeter labels that are not a process group of this run.
NOT_GROUPS = ("machine_busy_pct", "wall_s", "interrupts", "steal")
OTHERS = ("not this run", "postgres (other databases)")
CORE_MOCK = "core mock"

CAUSE_LOCKS = "database locks"
CAUSE_DB_WAITS = "database LWLock/IO waits"
CAUSE_CORE_MOCK = "core mock (CPU)"
CAUSE_CPU = "CPU (both cores saturated)"
CAUSE_OTHER_LOAD = "CPU taken by other processes on the shared machine"
CAUSE_UNIDENTIFIED = "unidentified (no resource saturated)"
NOT_FLAT = "did not flatten within the measured range"


def pg_activity_summary(samples: list[dict[str, int]], events: dict[str, int] | None = None) -> dict[str, Any]:
    """Samples of pg_stat_activity for this run's databases ({active, lock, lwlock, io}: backends in each state)
    → mean active backends and the share of active backend-samples waiting on a heavyweight lock, on an LWLock or
    I/O; `events` (wait "type:event" → backend-samples) gives the most frequent waits by name."""
    active = sum(sample["active"] for sample in samples)

    def share(key: str) -> float:
        return round(sum(sample[key] for sample in samples) / active, 3) if active else 0.0

    top = sorted((events or {}).items(), key=lambda item: -item[1])[:3]
    return {"samples": len(samples), "active_mean": round(active / len(samples), 2) if samples else None,
            "lock_wait_share": share("lock"), "lwlock_wait_share": share("lwlock"), "io_wait_share": share("io"),
            "lock_waiting_max": max((sample["lock"] for sample in samples), default=0),
            "top_wait_events": {name: round(count / active, 3) for name, count in top} if active else {}}


def cpu_shares(cpu: dict[str, float]) -> dict[str, Any]:
    """Core-seconds per group of this run, each group's share of them, and the share of the machine's busy CPU
    taken by processes not of this run."""
    groups = {label: value for label, value in cpu.items() if label not in NOT_GROUPS and label not in OTHERS}
    ours = sum(groups.values())
    others = sum(cpu.get(label, 0.0) for label in OTHERS)
    return {"ours_s": round(ours, 2), "others_s": round(others, 2),
            "share": {label: round(value / ours, 3) if ours else 0.0 for label, value in groups.items()},
            "others_share": round(others / (ours + others), 3) if ours + others else 0.0}


def flattening_cause(point: dict[str, Any]) -> dict[str, Any]:
    """Why adding processes at `point` bought (almost) nothing: the rule, in order —
    1. CPU saturated and other processes took ≥ OTHER_LOAD_SHARE_MIN of it → the shared machine (disturbed);
    2. CPU saturated and the core mock used ≥ CORE_MOCK_SHARE_MIN of this run's CPU → the core mock;
    3. CPU saturated → CPU (the largest group named);
    4. lock waits ≥ LOCK_WAIT_SHARE_MIN of active backends → database locks;
    5. LWLock + I/O waits ≥ DB_WAIT_SHARE_MIN of active backends → database LWLock/IO waits (commit flushes…);
    6. otherwise unidentified.
    CPU comes first: with both cores busy no lock or queue could be relieved by more processes. The signals seen
    (all of them, not only the deciding one) are returned too."""
    cpu = point.get("cpu") or {}
    busy = cpu.get("machine_busy_pct", 0.0)
    shares = cpu_shares(cpu)
    lock_share = (point.get("pg") or {}).get("lock_wait_share") or 0.0
    pg = point.get("pg") or {}
    db_wait_share = round((pg.get("lwlock_wait_share") or 0.0) + (pg.get("io_wait_share") or 0.0), 3)
    core_mock_share = shares["share"].get(CORE_MOCK, 0.0)
    largest = max(shares["share"].items(), key=lambda item: item[1], default=("–", 0.0))
    signals = {"machine_busy_pct": busy, "cpu_saturated": busy >= CPU_SATURATED_PCT,
               "lock_wait_share": lock_share, "locks": lock_share >= LOCK_WAIT_SHARE_MIN,
               "db_wait_share": db_wait_share, "db_waits": db_wait_share >= DB_WAIT_SHARE_MIN,
               "top_wait_events": pg.get("top_wait_events") or {},
               "core_mock_share": core_mock_share, "others_share": shares["others_share"],
               "largest_group": largest[0], "largest_group_share": largest[1]}
    if signals["cpu_saturated"] and shares["others_share"] >= OTHER_LOAD_SHARE_MIN:
        cause = CAUSE_OTHER_LOAD
    elif signals["cpu_saturated"] and core_mock_share >= CORE_MOCK_SHARE_MIN:
        cause = CAUSE_CORE_MOCK
    elif signals["cpu_saturated"]:
        cause = CAUSE_CPU
    elif signals["locks"]:
        cause = CAUSE_LOCKS
    elif signals["db_waits"]:
        cause = CAUSE_DB_WAITS
    else:
        cause = CAUSE_UNIDENTIFIED
    return {"cause": cause, "signals": signals}


def curve_summary(points: list[dict[str, Any]], *, planned: tuple[int, ...]) -> dict[str, Any]:
    """Rates, efficiency (rate at n / (rate at the first point × n / first n)), CPU ms per unit per group,
    the flattening point (first point gaining < FLAT_GAIN_MIN over the previous one) and its cause, and whether
    every point ran with processes not of this run below OTHER_LOAD_SHARE_MIN of the busy CPU (`undisturbed`).
    A point that did not finish its work (`complete` false: backlog not drained, wrk errors) is not measured."""
    measured = [point for point in points if point.get("rate") and point.get("complete", True)]
    first = measured[0] if measured else None
    rows = []
    for point in measured:
        ideal = first["rate"] * point["n"] / first["n"]
        cpu = point.get("cpu") or {}
        units = point.get("units") or 0
        rows.append({"n": point["n"], "rate": round(point["rate"], 2), "efficiency": round(point["rate"] / ideal, 3),
                     "machine_busy_pct": cpu.get("machine_busy_pct"),
                     "cpu_ms_per_unit": {label: round(value * 1000 / units, 2) for label, value in cpu.items()
                                         if label not in NOT_GROUPS and units},
                     "lock_wait_share": (point.get("pg") or {}).get("lock_wait_share"),
                     "others_share": cpu_shares(cpu)["others_share"]})
    flat_at, cause = None, {"cause": NOT_FLAT, "signals": {}}
    for previous, current in zip(measured, measured[1:], strict=False):
        if current["rate"] < previous["rate"] * FLAT_GAIN_MIN:
            flat_at, cause = current["n"], flattening_cause(current)
            break
    all_measured = [point["n"] for point in measured] == list(planned)
    # A cause inside this run's stack: not "unidentified", not "did not flatten", and not other users of the
    # machine (then the curve says more about them than about the stack).
    identified = flat_at is not None and cause["cause"] not in (CAUSE_UNIDENTIFIED, NOT_FLAT, CAUSE_OTHER_LOAD)
    undisturbed = bool(rows) and all(row["others_share"] < OTHER_LOAD_SHARE_MIN for row in rows)
    return {"planned": list(planned), "points": rows, "all_points_measured": int(all_measured),
            "undisturbed": int(undisturbed),
            "max_others_share": max((row["others_share"] for row in rows), default=None),
            "best_rate": max((row["rate"] for row in rows), default=None),
            "best_n": max(rows, key=lambda row: row["rate"])["n"] if rows else None,
            "flattens_at": flat_at, "cause": cause["cause"], "signals": cause["signals"],
            "cause_identified": int(identified)}
