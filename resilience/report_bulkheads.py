"""E19 in the report: per fault and route, the one-pool and the bulkheads run side by side (availability, p95 and
p95 against that run's own baseline window), the seed's claim for microservices beside it, what the pools still
share, and one chart (matplotlib, Agg backend). Everything is read from the result JSON.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from resilience.report_charts import figure_save
from resilience.report_headlines import fmt, pct

FAULT_TITLES = {"hog": "CPU hog in the account-opening handler", "crash": "crash loop of the account-opening pool",
                "spike": "application spike (E5's +20/s with approvals)"}
# flows.md §6 table (blast radius, scalability): what the seed claims microservices would show in the same fault.
SEED_CLAIM = {"hog": "local: a slow service does not slow the others",
              "crash": "local: e.g. account opening down, balance and transfers still answer",
              "spike": "scale only the hot service; the others are unaffected"}
ROUTES = ("balance", "transactions", "transfer", "application", "confirm", "spike_application", "spike_confirm")
TOPOLOGIES = ("single", "bulkheads")
SHARED = ("one PostgreSQL database (connections, locks, I/O) and one core-banking mock",
          "the `core` Celery queue: account provisioning and transfer legs share its worker group",
          "the machine's 2 CPUs: a hog or a restarting pool (Django start-up) takes CPU from every pool",
          "one Redis broker (every queue) and one cache (the request throttles' counters)")


def _cell(phases: dict[str, Any], fault: str, route: str) -> str:
    entry = (phases.get(fault) or {}).get(route)
    if not entry:
        return "–"
    ratio = entry.get("p95_ratio_vs_baseline")
    shown_ratio = f" ({fmt(ratio, 2)}×)" if ratio is not None else ""
    return f"{pct(entry.get('availability'))} of {fmt(entry.get('n'))}, p95 {fmt(entry.get('p95'), 0)} ms{shown_ratio}"


def _baseline(phases: dict[str, Any], route: str) -> str:
    entry = (phases.get("baseline") or {}).get(route)
    return f"{pct(entry.get('availability'))}, p95 {fmt(entry.get('p95'), 0)} ms" if entry else "–"


def e19_table(metrics: dict[str, Any]) -> list[str]:
    """Side by side per fault and route: baseline and fault window of each topology, the seed's claim."""
    phases = {name: (metrics.get(name) or {}).get("phases") or {} for name in TOPOLOGIES}
    lines = ["| fault | route | one pool: baseline | one pool: fault window (p95 × baseline) | bulkheads: baseline | "
             "bulkheads: fault window (p95 × baseline) | seed's claim, microservices |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for fault, title in FAULT_TITLES.items():
        routes = [route for route in ROUTES if any(route in (phases[name].get(fault) or {}) for name in TOPOLOGIES)]
        for index, route in enumerate(routes):
            lines.append(f"| {title if index == 0 else ''} | {route} | {_baseline(phases['single'], route)} | "
                         f"{_cell(phases['single'], fault, route)} | {_baseline(phases['bulkheads'], route)} | "
                         f"{_cell(phases['bulkheads'], fault, route)} | {SEED_CLAIM[fault] if index == 0 else ''} |")
    return lines


def e19_section(result: dict[str, Any], *, chart: str | None) -> list[str]:
    metrics = result.get("metrics") or {}
    if not any(isinstance(metrics.get(name), dict) and metrics[name].get("phases") for name in TOPOLOGIES):
        return []
    lines = ["", "Side by side (each topology against its own baseline window; availability = share of 2xx):", "",
             *e19_table(metrics), ""]
    crashes = {name: ((metrics.get(name) or {}).get("e19") or {}).get("crash_restarts") or [] for name in TOPOLOGIES}
    lines.append("Crash loop: " + "; ".join(
        f"{name} pool killed {len(items)}×, back after {', '.join(fmt(item['down_s'], 1) for item in items)} s"
        for name, items in crashes.items()) + ".")
    lines += ["", "What the pools still share (deployment alone does not separate it):", "",
              *[f"- {item}" for item in SHARED]]
    if chart:
        lines += ["", f"![E19 side by side]({chart})"]
    return lines


def e19_headline(metrics: dict[str, Any]) -> str:
    """Worst availability and p95 ratio of the other pools' routes (balance, history, transfer) per topology."""
    parts = []
    for name in TOPOLOGIES:
        phases = (metrics.get(name) or {}).get("phases") or {}
        per_fault = []
        for fault in FAULT_TITLES:
            entries = [(phases.get(fault) or {}).get(route) or {} for route in ("balance", "transactions", "transfer")]
            availability = min((entry["availability"] for entry in entries if "availability" in entry), default=None)
            ratio = max((entry["p95_ratio_vs_baseline"] for entry in entries
                         if entry.get("p95_ratio_vs_baseline") is not None), default=None)
            per_fault.append(f"{fault} {pct(availability)} / {fmt(ratio, 2)}×")
        parts.append(f"{name}: {', '.join(per_fault)}")
    return "other routes' worst 2xx / p95 × baseline — " + "; ".join(parts)


def e19_chart(result: dict[str, Any], *, path: Path) -> None:
    """Two rows × three faults: availability and p95 × baseline per route, one pool next to bulkheads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = result.get("metrics") or {}
    phases = {name: (metrics.get(name) or {}).get("phases") or {} for name in TOPOLOGIES}
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharey="row")
    width = 0.38
    for column, fault in enumerate(FAULT_TITLES):
        routes = [route for route in ROUTES if any(route in (phases[name].get(fault) or {}) for name in TOPOLOGIES)]
        for offset, name, colour in ((-width / 2, "single", "tab:red"), (width / 2, "bulkheads", "tab:blue")):
            entries = [(phases[name].get(fault) or {}).get(route) or {} for route in routes]
            xs = [index + offset for index in range(len(routes))]
            axes[0][column].bar(xs, [100 * entry.get("availability", 0) for entry in entries], width,
                                label="one pool" if name == "single" else "bulkheads", color=colour)
            axes[1][column].bar(xs, [entry.get("p95_ratio_vs_baseline") or 0 for entry in entries], width,
                                color=colour)
        for row in (0, 1):
            axes[row][column].set_xticks(range(len(routes)), routes, rotation=30, fontsize=7)
            axes[row][column].grid(alpha=0.3, axis="y")
        axes[0][column].set_title(FAULT_TITLES[fault], fontsize=9)
        axes[1][column].axhline(1.2, color="black", linestyle=":", linewidth=1)
        axes[0][column].axhline(99.9, color="black", linestyle=":", linewidth=1)
    axes[0][0].set_ylabel("2xx in the fault window (%)")
    axes[1][0].set_ylabel("p95 ÷ baseline p95")
    axes[1][0].set_yscale("log")
    axes[0][0].legend(fontsize=8, loc="lower left")
    figure_save(fig, title="E19: the same code as one pool and as bulkheads (dotted: 99.9 % and 1.2 × targets)",
                path=path)
