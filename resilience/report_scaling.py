"""E6 in the report: the headline, the tables of both curves (rate, efficiency, machine busy, CPU ms per unit per
group, lock waits) and a chart of the two curves against linear scaling (matplotlib, Agg backend).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from resilience.report_charts import figure_save
from resilience.report_headlines import fmt, pct

CURVES = (("core", "core worker concurrency", "completed transfers/s"),
          ("web", "web workers", "transfer accepts/s"),
          ("web_balance", "web workers", "balance GET/s"))


def _curve_sentence(curve: dict[str, Any], unit: str) -> str:
    rates = ", ".join(f"{row['n']}: {fmt(row['rate'])}" for row in curve.get("points", []))
    where = (f"flat from {curve['flattens_at']} ({curve['cause']})" if curve.get("flattens_at") is not None
             else curve.get("cause", "–"))
    return f"{unit} {rates or '–'}; best {fmt(curve.get('best_rate'))} at {fmt(curve.get('best_n'))}, {where}"


def e6_headline(metrics: dict[str, Any]) -> str:
    e6 = metrics.get("e6") or {}
    parts = [_curve_sentence(e6.get(key) or {}, unit) for key, _axis, unit in CURVES if e6.get(key)]
    transfers = metrics.get("transfers") or {}
    return "; ".join(parts) + (f"; lost {fmt(transfers.get('lost'))}, invariants failed "
                               f"{fmt((metrics.get('invariants') or {}).get('failed'))}")


def _cpu_cell(row: dict[str, Any]) -> str:
    per = row.get("cpu_ms_per_unit") or {}
    shown = sorted(((label, value) for label, value in per.items() if value >= 0.05), key=lambda item: -item[1])
    return ", ".join(f"{label} {value:.1f}" for label, value in shown) or "–"


def e6_section(run: dict[str, Any], *, chart: str | None) -> list[str]:
    """Markdown lines for E6's run: one table per curve, the rule's signals at the flattening point, the chart."""
    e6 = run["metrics"].get("e6") or {}
    lines = ["", f"Backlog {fmt(e6.get('backlog'))} transfers per core point; web points "
             f"{fmt(e6.get('web_seconds'))} s of wrk each ({fmt(e6.get('web_threads'))} threads per web worker); "
             f"E6 took {fmt(e6.get('seconds'))} s. Thresholds of the rule: {e6.get('thresholds')}.", ""]
    for key, axis, unit in CURVES:
        curve = e6.get(key)
        if not curve:
            continue
        lines += [f"**{unit}** over {axis} (planned {curve.get('planned')}):", "",
                  f"| {axis} | {unit} | efficiency | machine busy | not this run | lock-wait share | "
                  "CPU ms per unit by group |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for row in curve.get("points", []):
            lines.append(f"| {row['n']} | {fmt(row['rate'])} | {fmt(row['efficiency'], 2)} | "
                         f"{fmt(row.get('machine_busy_pct'))} % | {pct(row.get('others_share'))} | "
                         f"{fmt(row.get('lock_wait_share'), 3)} | {_cpu_cell(row)} |")
        signals = curve.get("signals") or {}
        where = f"flattens at {curve['flattens_at']}" if curve.get("flattens_at") is not None else "does not flatten"
        lines += ["", f"The curve {where}: **{curve.get('cause')}**" +
                  (f" (machine busy {fmt(signals.get('machine_busy_pct'))} %, lock-wait share "
                   f"{fmt(signals.get('lock_wait_share'), 3)}, LWLock/IO waits {fmt(signals.get('db_wait_share'), 3)} "
                   f"(top {signals.get('top_wait_events') or '–'}), "
                   f"core mock {fmt(signals.get('core_mock_share'), 3)} "
                   f"and processes not of this run {fmt(signals.get('others_share'), 3)} of the CPU, largest group "
                   f"{signals.get('largest_group')} {fmt(signals.get('largest_group_share'), 3)})" if signals else "")
                  + ".", ""]
    if chart:
        lines += [f"![E6]({chart})", ""]
    return lines


def chart_e6(run: dict[str, Any], *, title: str, path: Path) -> None:
    """One panel per curve: the measured rate and linear scaling from the first point, flattening point marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    e6 = run["metrics"].get("e6") or {}
    curves = [(key, axis, unit) for key, axis, unit in CURVES if (e6.get(key) or {}).get("points")]
    fig, axes = plt.subplots(1, max(len(curves), 1), figsize=(5 * max(len(curves), 1), 4), squeeze=False)
    for axis_plot, (key, axis, unit) in zip(axes[0], curves, strict=False):
        points = e6[key]["points"]
        n = [row["n"] for row in points]
        axis_plot.plot(n, [row["rate"] for row in points], marker="o", label="measured")
        axis_plot.plot(n, [points[0]["rate"] * value / n[0] for value in n], linestyle=":", color="grey",
                       label="linear from the first point")
        busy = axis_plot.twinx()
        busy.plot(n, [row.get("machine_busy_pct") or 0 for row in points], color="tab:red", alpha=0.4,
                  marker=".", label="machine busy %")
        busy.plot(n, [(row.get("machine_busy_pct") or 0) * max(0.0, 1 - (row.get("others_share") or 0))
                      for row in points],
                  color="tab:red", alpha=0.4, linestyle="--", label="of it this run's processes %")
        busy.set_ylim(0, 105)
        busy.legend(loc="lower right", fontsize=7)
        busy.set_ylabel("machine busy (%)")
        if e6[key].get("flattens_at") is not None:
            axis_plot.axvline(e6[key]["flattens_at"], color="black", alpha=0.3, linewidth=0.8)
        axis_plot.set_ylim(bottom=0)
        axis_plot.set_xscale("log", base=2)
        axis_plot.set_xticks(n, [str(value) for value in n])
        axis_plot.set_xlabel(axis)
        axis_plot.set_ylabel(unit)
        axis_plot.set_title(f"{unit}: {e6[key].get('cause')}", fontsize=8)
        axis_plot.legend(loc="upper left", fontsize=7)
        axis_plot.grid(alpha=0.3)
    figure_save(fig, title=title, path=path, title_size=10)
