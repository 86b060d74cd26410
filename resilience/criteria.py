"""What an experiment is, as data, and how its run is judged: steady-state hypothesis, method (timed steps through
the fault switch), rollback, variants, and pass criteria (`metric op target`) that a run evaluates to PASS/FAIL each.

A load experiment runs W0 for `duration_s`; its `steps` fire at an anchor (`start`, `fault_start`, `fault_end`)
plus an offset. Static experiments call a function of another module (`call`, imported lazily when the experiment
runs): if the import fails the verdict is "NOT RUN: <reason>".
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

DIMENSIONS = ("coupling", "flexibility", "scalability", "blast radius", "complexity", "consistency")
_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class Criterion:
    """`metric` (dotted path into the run's metrics) `op` `target`, e.g. ("transfers.lost", "==", 0)."""

    metric: str
    op: str
    target: float
    label: str = ""
    # Timing targets (drain time, latency ratios) depend on the machine and need the full windows: a quick run
    # reports them but only correctness criteria (availability, lost, doubled, money, invariants, mails) gate it.
    timing: bool = False

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown operator {self.op!r}")


@dataclass(frozen=True)
class Step:
    """At `anchor` + `offset_s` do `action` with `params` (see Harness.ACTIONS)."""

    anchor: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    offset_s: float = 0.0


@dataclass(frozen=True)
class Timing:
    """Seconds since the load started: total run, fault window [fault_start_s, fault_end_s)."""

    duration_s: float
    fault_start_s: float
    fault_end_s: float
    drain_wait_s: float = 120.0  # after the load stops, wait (bounded) until every transfer is terminal

    def at(self, anchor: str, offset_s: float = 0.0) -> float:
        base = {"start": 0.0, "fault_start": self.fault_start_s, "fault_end": self.fault_end_s,
                "end": self.duration_s}[anchor]
        return base + offset_s


@dataclass(frozen=True)
class Variant:
    """One run of a multi-run experiment (E5 A/B): its name and how the stack differs."""

    name: str
    stack: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    dimension: str
    hypothesis: str
    method: str
    rollback: str
    criteria: tuple[Criterion, ...]
    original: str = ""  # what the original microservice sample does in the same situation
    kind: str = "load"  # "load" | "static" | "scaling" (E6: its own measurement on the stack) | "todo"
    full: Timing | None = None
    quick: Timing | None = None
    steps: tuple[Step, ...] = ()
    load: dict[str, Any] = field(default_factory=dict)  # overrides of the W0 load config (e.g. duplicates)
    variants: tuple[Variant, ...] = (Variant("run"),)
    call: str = ""  # static: "module:function"
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    call_kwargs_quick: dict[str, Any] = field(default_factory=dict)
    in_quick: bool = False

    def timing(self, *, quick: bool) -> Timing | None:
        return self.quick if quick else self.full


# --- criteria evaluation --------------------------------------------------------------------------------


# Criteria several load experiments share: nothing lost, doubled or created out of thin air, every invariant
# holds, and one mail per completed transfer.
CONSISTENCY = (
    Criterion("transfers.lost", "==", 0, "lost transfers (not terminal after the drain) = 0"),
    Criterion("transfers.doubled", "==", 0, "doubled core postings (I3) = 0"),
    Criterion("money.conservation_delta", "==", 0, "conservation delta over the W0 accounts = 0 yen"),
    Criterion("invariants.failed", "==", 0, "check_invariants: every invariant holds"),
)
ONE_MAIL = Criterion("mails.completed_without_exactly_one", "==", 0, "exactly one mail per completed transfer")


def metric_get(metrics: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (None when any part is missing)."""
    value: Any = metrics
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def criterion_evaluate(criterion: Criterion, metrics: dict[str, Any]) -> dict[str, Any]:
    """{label, metric, op, target, value, passed}; a missing (not measured) value fails."""
    value = metric_get(metrics, criterion.metric)
    passed = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        bool(_OPS[criterion.op](value, criterion.target))
    if isinstance(value, bool):
        passed = bool(_OPS[criterion.op](int(value), criterion.target))
    return {"label": criterion.label or f"{criterion.metric} {criterion.op} {criterion.target:g}",
            "metric": criterion.metric, "op": criterion.op, "target": criterion.target, "value": value,
            "passed": passed, "timing": criterion.timing}


def gate_failed(results: list[dict[str, Any]], *, quick: bool) -> bool:
    """True when the run must fail: any failed criterion, except timing targets in a quick run."""
    return any(not result["passed"] and not (quick and result.get("timing")) for result in results)


def criteria_evaluate(criteria: tuple[Criterion, ...], metrics: dict[str, Any]) -> list[dict[str, Any]]:
    return [criterion_evaluate(criterion, metrics) for criterion in criteria]


def verdict(results: list[dict[str, Any]], *, error: str = "") -> str:
    """PASS when every criterion passed, FAIL otherwise; NOT RUN when the run itself could not happen."""
    if error:
        return f"NOT RUN: {error}"
    if not results:
        return "NOT RUN: no criteria"
    return "PASS" if all(result["passed"] for result in results) else "FAIL"
