"""The report's charts: for one run, four panels over time with the fault window shaded (availability and p95
latency per endpoint, outbox backlog, transfer phases); matplotlib, Agg backend (no display).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

ENDPOINT_ORDER = ("balance", "transactions", "transfer", "transfer_dup", "application", "confirm", "confirm_dup",
                  "spike_application", "spike_confirm")


def chart_run(run: dict[str, Any], *, title: str, path: Path) -> None:
    """Four panels over time, fault window shaded: availability per endpoint, p95 latency per endpoint, outbox
    backlog (open rows per queue, dead letters, oldest pending age), transfer phases of this run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timing = run["timing"]
    fig, axes = plt.subplots(4, 1, figsize=(10, 12), sharex=True)
    series = run["series"]
    endpoints = [name for name in ENDPOINT_ORDER if name in series] + \
        sorted(name for name in series if name not in ENDPOINT_ORDER)
    for name in endpoints:
        column = series[name]
        t = column["t"]
        availability = [100 * ok / n if n else None for ok, n in zip(column["ok"], column["n"], strict=True)]
        axes[0].plot(t, [value if value is not None else float("nan") for value in availability], label=name,
                     linewidth=1, marker=".", markersize=2)
        axes[1].plot(t, [value if value is not None else float("nan") for value in column["p95"]], label=name,
                     linewidth=1, marker=".", markersize=2)
    axes[0].set_ylabel("2xx share per second (%)")
    axes[0].set_ylim(-5, 105)
    axes[0].legend(loc="lower left", fontsize=7, ncol=4)
    axes[1].set_ylabel("p95 latency per second (ms)")
    axes[1].set_yscale("log")
    samples = [sample for sample in run["samples"] if sample.get("ok")]
    st = [sample["t"] for sample in samples]
    for key, label in (("open_core", "open rows, core queue"), ("open_notify", "open rows, notify queue"),
                       ("dead", "dead letters")):
        axes[2].plot(st, [sample["outbox"].get(key, 0) for sample in samples], label=label, linewidth=1)
    axes[2].set_ylabel("outbox rows")
    age = axes[2].twinx()
    age.plot(st, [sample["outbox"]["oldest_pending_age_s"] for sample in samples], color="grey", linestyle=":",
             linewidth=1, label="oldest pending age (s)")
    age.set_ylabel("oldest pending age (s)")
    lines = axes[2].get_legend_handles_labels()
    lines_age = age.get_legend_handles_labels()
    axes[2].legend(lines[0] + lines_age[0], lines[1] + lines_age[1], loc="upper right", fontsize=7)
    phases = sorted({phase for sample in samples for phase in sample["transfers"]})
    for phase in phases:
        axes[3].plot(st, [sample["transfers"].get(phase, 0) for sample in samples], label=phase, linewidth=1)
    axes[3].set_yscale("symlog")
    axes[3].set_ylabel("transfers of this run by phase")
    axes[3].set_xlabel("seconds since the load started")
    if phases:
        axes[3].legend(loc="upper left", fontsize=7, ncol=3)
    for axis in axes:
        if timing["fault_end_s"] > timing["fault_start_s"] and timing["fault_start_s"] > 0:
            axis.axvspan(timing["fault_start_s"], timing["fault_end_s"], color="red", alpha=0.08)
        for action in run.get("actions", []):
            if action.get("t") is not None and action["action"] in ("kill_core_worker", "web_master_kill",
                                                                    "db_block", "db_unblock"):
                axis.axvline(action["t"], color="black", alpha=0.25, linewidth=0.6)
        axis.grid(alpha=0.3)
    figure_save(fig, title=title, path=path)


def figure_save(fig: Any, *, title: str, path: Path, title_size: int = 11) -> None:
    """Title the figure, write it as a PNG at `path` (folders created) and free it."""
    import matplotlib.pyplot as plt

    fig.suptitle(title, fontsize=title_size)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
