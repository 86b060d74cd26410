"""Render docs/resilience-report.md and docs/resilience/*.png from the harness's JSON results.

    .venv/bin/python manage.py resilience report [--out resilience/results]

For every experiment the newest full run is used (a quick run only when no full run has it, and then it is
marked "quick"). Charts use matplotlib's Agg backend (no display). Everything shown is read from the JSON
files: the report never measures anything itself.
"""
from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path
from typing import Any

from resilience.environment import REPO_ROOT
from resilience.report_bulkheads import e19_chart, e19_section
from resilience.report_charts import ENDPOINT_ORDER, chart_run
from resilience.report_headlines import fmt, headline, pct, window_of
from resilience.report_scaling import chart_e6, e6_section

DEFAULT_OUT = REPO_ROOT / "resilience" / "results"
DOCS_PATH = REPO_ROOT / "docs" / "resilience-report.md"
CHARTS_DIR = REPO_ROOT / "docs" / "resilience"

# flows.md §6 table: the seed's claims, and what the original microservice sample does (flows.md §2.8, §6).
DIMENSIONS: dict[str, dict[str, str]] = {
    "coupling": {"monolith": "tight", "microservices": "loose",
                 "original": "Separate Lambdas and tables, but one shared core API and event bus; the transfer "
                             "pre-check calls core synchronously, so a core outage answers 400 \"source account not "
                             "found\"."},
    "flexibility": {"monolith": "low: whole-system releases, code freezes, full regression runs",
                    "microservices": "high: per-service regression, lighter releases",
                    "original": "Per-function deployments; no end-to-end suite in the sample."},
    "scalability": {"monolith": "low: must scale everything; spikes affect all users",
                    "microservices": "high: scale only the hot service",
                    "original": "Lambda concurrency per function; core API and DynamoDB shared by all."},
    "blast radius": {"monolith": "whole system; partial replacement is hard; resilience needs HA clustering",
                     "microservices": "local: e.g. transfers down, balance still visible",
                     "original": "Core down: 400 on transfer requests (pre-check), 500 on balance (read through to "
                                 "core), legs marked failed permanently after 3 attempts (~3 s), never retried, "
                                 "customer not told. Deposit failure after withdrawal: source debited, target never "
                                 "credited, no compensation, no alert, no mail."},
    "complexity": {"monolith": "low", "microservices": "high (hard for monolith-trained developers)",
                   "original": "About 18 functions + core API function, 10 tables (3 in core), 2 queues + 2 DLQs, "
                               "1 bus with 5 rules, 3 stream mappings, 2 API gateways."},
    "consistency": {"monolith": "easy (ACID, rollback)", "microservices": "hard (eventual consistency, patterns)",
                    "original": "Lost responses re-sent without idempotency: double debit; duplicate bus events: "
                                "double credit; mid-batch throw: replay from stale images (flows.md §2.8)."},
}


def results_load(out_dir: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(glob.glob(str(out_dir / "resilience-*.json"))):
        try:
            record = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError):
            continue
        record["_file"] = Path(path).name
        records.append(record)
    return records


def newest_per_experiment(records: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """{id: (experiment result, its run record)}: the newest full run, else the newest quick run; an experiment
    that was not run (NOT RUN) never hides an older result that ran."""
    chosen: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def rank(result: dict[str, Any], record: dict[str, Any]) -> tuple[int, int, str]:
        ran = 0 if result["verdict"].startswith("NOT RUN") else 1
        return (ran, 0 if record.get("quick") else 1, record.get("started_at", ""))

    for record in records:
        for result in record.get("experiments", []):
            current = chosen.get(result["id"])
            if current is None or rank(result, record) >= rank(*current):
                chosen[result["id"]] = (result, record)
    return chosen


def endpoint_table(metrics: dict[str, Any]) -> list[str]:
    endpoints = metrics.get("endpoints") or {}
    names = [name for name in ENDPOINT_ORDER if name in endpoints] + \
        sorted(name for name in endpoints if name not in ENDPOINT_ORDER)
    lines = ["| endpoint | baseline 2xx | baseline p50 / p95 ms | fault 2xx | fault p50 / p95 / max ms | "
             "fault status codes | after 2xx |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in names:
        base, fault, after = (window_of(metrics, name, window) for window in ("baseline", "fault", "after"))
        lines.append(f"| {name} | {pct(base.get('availability'))} ({fmt(base.get('n'))}) | "
                     f"{fmt(base.get('p50'))} / {fmt(base.get('p95'))} | {pct(fault.get('availability'))} "
                     f"({fmt(fault.get('n'))}) | {fmt(fault.get('p50'))} / {fmt(fault.get('p95'))} / "
                     f"{fmt(fault.get('max'))} | {fault.get('codes', '–')} | {pct(after.get('availability'))} |")
    return lines


def criteria_table(result: dict[str, Any]) -> list[str]:
    if not result["criteria"]:
        return []
    lines = ["| criterion | measured | target | |", "| --- | --- | --- | --- |"]
    for criterion in result["criteria"]:
        value = criterion["value"]
        shown = "not measured" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
        kind = " (timing target)" if criterion.get("timing") else ""
        lines.append(f"| {criterion['label']}{kind} | {shown} | {criterion['op']} {criterion['target']:g} | "
                     f"{'PASS' if criterion['passed'] else '**FAIL**'} |")
    return lines


def carried_backlog(metrics: dict[str, Any]) -> str:
    """A sentence on the work a run inherited or left behind, or "" when it started and ended drained.

    Variants of one experiment share the database, so a run that starts while the run before it is still draining
    (E5's provisioning and mail backlog) measures its load on top of that work: the reader must see it."""
    drain = metrics.get("drain") or {}
    before, left = drain.get("before") or {}, drain.get("left") or {}
    parts = []
    if before.get("outbox_open"):
        parts.append(f"This run started with {fmt(before['outbox_open'])} outbox rows and "
                     f"{fmt(before.get('applications_open', 0))} applications still open from the run before it, "
                     "so its windows carry that work too.")
    if left.get("outbox_open"):
        parts.append(f"When its drain wait ended, {fmt(left['outbox_open'])} outbox rows and "
                     f"{fmt(left.get('applications_open', 0))} applications were still open.")
    return " ".join(parts)


def experiment_section(result: dict[str, Any], record: dict[str, Any], *, charts: dict[str, str]) -> list[str]:
    mode = "quick run" if record.get("quick") else "full run"
    lines = [f"### {result['id']} — {result['title']}", "",
             f"**Verdict: {result['verdict']}** ({mode} {record.get('started_at', '?')}, commit "
             f"`{record.get('commit', '?')}`; dimension: {result['dimension']})", ""]
    if result.get("hypothesis"):
        lines += [f"- *Steady-state hypothesis*: {result['hypothesis']}", f"- *Method*: {result['method']}",
                  f"- *Rollback*: {result['rollback']}"]
    if result.get("original"):
        lines.append(f"- *Original microservice sample in the same situation*: {result['original']}")
    lines += ["", f"Measured: {headline(result)}.", ""]
    lines += criteria_table(result)
    if result["id"] == "E19":
        lines += e19_section(result, chart=charts.get("E19-side-by-side"))
    for run in result.get("runs", []):
        if run.get("kind") == "scaling":  # E6: curves, not a load run over time
            lines += e6_section(run, chart=charts.get(f"{result['id']}-{run['variant']}"))
            continue
        metrics = run["metrics"]
        timing = run["timing"]
        label = "" if run["variant"] == "run" else f"Run {run['variant']} ({run.get('variant_note', '')}): "
        lines += ["", f"{label}W0 at {run['rates']} for {timing['duration_s']:g} s, fault window "
                      f"{timing['fault_start_s']:g}–{timing['fault_end_s']:g} s; {metrics.get('requests', 0):,} "
                      f"requests recorded; transfers by phase {metrics.get('transfers', {}).get('by_phase')}; "
                      f"accepted→completed p50/p95/max "
                      f"{fmt(metrics.get('transfers', {}).get('e2e_s', {}).get('p50'), 2)}/"
                      f"{fmt(metrics.get('transfers', {}).get('e2e_s', {}).get('p95'), 2)}/"
                      f"{fmt(metrics.get('transfers', {}).get('e2e_s', {}).get('max'), 2)} s.", ""]
        carried = carried_backlog(metrics)
        if carried:
            lines += [carried, ""]
        lines += endpoint_table(metrics)
        failing = (metrics.get("invariants") or {}).get("failing")
        if failing:
            lines += ["", f"check_invariants failed: {', '.join(failing)}"]
        key = f"{result['id']}-{run['variant']}"
        if key in charts:
            lines += ["", f"![{key}]({charts[key]})"]
    if result.get("notes"):
        lines += ["", *[f"- {note}" for note in result["notes"]]]
    if result.get("error"):
        lines += ["", f"Not run: {result['error']}"]
    return [*lines, ""]


def dimension_tables(chosen: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    lines = ["## The six dimensions: claims against measurements", ""]
    for dimension, claims in DIMENSIONS.items():
        measured = [f"{result['id']} {result['verdict']}: {headline(result)}"
                    for result, _record in chosen.values() if result["dimension"] == dimension]
        lines += [f"### {dimension.capitalize()}", "",
                  "| | |", "| --- | --- |",
                  f"| Seed's claim, monolith | {claims['monolith']} |",
                  f"| Seed's claim, microservices | {claims['microservices']} |",
                  f"| Measured here (Django monolith) | {'<br>'.join(measured) or 'not measured yet'} |",
                  f"| Original microservice sample, same situation | {claims['original']} |", ""]
    return lines


def render(records: list[dict[str, Any]], *, charts_dir: Path = CHARTS_DIR, make_charts: bool = True) -> str:
    chosen = newest_per_experiment(records)
    order = ["E1", "E2", "E3", "E4", "E4b", "E5", "E6", "E7", "E8", "E9", "E10", "E11", "E12", "E13", "E14", "E15",
             "E16", "E17", "E18", "E19"]
    ids = [code for code in order if code in chosen] + sorted(code for code in chosen if code not in order)
    charts: dict[str, str] = {}
    if make_charts:
        for code in ids:
            result, _record = chosen[code]
            for run in result.get("runs", []):
                if run.get("kind") == "scaling":
                    chart_e6(run, title=f"{code} {result['title']}", path=charts_dir / f"{code}.png")
                    charts[f"{code}-{run['variant']}"] = f"resilience/{code}.png"
                    continue
                if not run.get("series"):
                    continue
                key = f"{code}-{run['variant']}"
                name = f"{code}.png" if run["variant"] == "run" else f"{key}.png"
                chart_run(run, title=f"{code} {result['title']}" + ("" if run["variant"] == "run"
                                                                     else f" — run {run['variant']}"),
                          path=charts_dir / name)
                charts[key] = f"resilience/{name}"
            if code == "E19" and result.get("runs"):
                e19_chart(result, path=charts_dir / "E19-side-by-side.png")
                charts["E19-side-by-side"] = "resilience/E19-side-by-side.png"
    runs_used = {record["_file"]: record for _result, record in chosen.values()}
    lines = ["# Resilience report: the Django monolith under the experiments of flows.md §6", "",
             "Generated by `manage.py resilience report` from the JSON results of `manage.py resilience run` "
             "(resilience/). Do not edit by hand; rerun the harness and the report instead.", "",
             "## Runs used", "", "| file | mode | started (UTC) | commit | machine | wall time |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, record in sorted(runs_used.items()):
        machine = record.get("machine", {})
        lines.append(f"| `{name}` | {'quick' if record.get('quick') else 'full'} | {record.get('started_at')} | "
                     f"`{record.get('commit')}` | {machine.get('nproc')} cores ({machine.get('cpu_model')}), "
                     f"{machine.get('ram_gib')} GiB RAM, PostgreSQL {machine.get('postgres')}, Redis "
                     f"{machine.get('redis')} | {record.get('duration_s')} s |")
    stack = next(iter(runs_used.values()), {}).get("stack", {})
    if stack:
        lines += ["", f"Stack (§6.0, one machine): web {stack.get('web')}; {stack.get('workers')}; core mock "
                      f"{stack.get('core_mock')}. W0: {stack.get('w0')}."]
    lines += ["", "## Verdicts", "", "| id | experiment | dimension | verdict | headline |",
              "| --- | --- | --- | --- | --- |"]
    for code in ids:
        result, record = chosen[code]
        quick = " (quick)" if record.get("quick") and not result["verdict"].startswith("NOT RUN") else ""
        lines.append(f"| {code} | {result['title']} | {result['dimension']} | {result['verdict']}{quick} | "
                     f"{headline(result)} |")
    misses = [(code, criterion) for code in ids for criterion in chosen[code][0]["criteria"] if not criterion["passed"]]
    if misses:
        lines += ["", "### Criteria not met", "", "| id | criterion | measured | target |", "| --- | --- | --- | --- |"]
        for code, criterion in misses:
            value = criterion["value"]
            shown = "not measured" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
            kind = " (timing target)" if criterion.get("timing") else ""
            lines.append(f"| {code} | {criterion['label']}{kind} | {shown} | "
                         f"{criterion['op']} {criterion['target']:g} |")
    lines += ["", *HONESTY, "", *dimension_tables(chosen), "## Experiments", ""]
    for code in ids:
        result, record = chosen[code]
        lines += experiment_section(result, record, charts=charts)
    return "\n".join(lines).rstrip() + "\n"


HONESTY = [
    "## Where the monolith loses, and what this harness does not show",
    "",
    "- **Whole-process failure is a whole-application outage (E4).** Killing the gunicorn master or taking the bank "
    "database away stops every endpoint at once — balance, history, transfers and account opening together. That is "
    "exactly the seed's \"whole system\" case; E4 measures its seconds and failed requests instead of hiding them. The "
    "database outage is simulated by refusing connections to the harness's own database (`ALLOW_CONNECTIONS false` "
    "plus terminating its sessions), because the PostgreSQL server on this machine is shared.",
    "- **Two web instances behind a local proxy (E4b)** use HAProxy from Debian (`apt-get install -y haproxy`), not a "
    "home-made proxy; where it is not installed E4b reports NOT RUN. Each instance then has half the web workers, so "
    "the pair has the same capacity as the single instance of the other experiments.",
    "- **Bulkheads by deployment alone (E19)** split the web routes into per-module gunicorn pools behind HAProxy "
    "and give each Celery queue its own workers, with the same total capacity. What they cannot split is shown "
    "with the figures: the database, the `core` queue (account provisioning and transfer legs), and the CPUs of "
    "this 2-core box (a hog or a restarting pool takes CPU from every pool).",
    "- **Background work that grows with the data (E5).** The read model's core sync (beat, every "
    "`BALANCE_SYNC_INTERVAL_SECONDS`, 30 s) reads every account from core, two calls each. E5's spike opens "
    "thousands of accounts, after which one sync takes longer than its interval and runs without pause on the worker "
    "that also sends the mails; E5's later runs start with that worker's mail backlog and carry its CPU. This is a "
    "limit of how the sync is scheduled (all accounts each time, not a bounded slice), not of the spike itself.",
    "- **One machine, two cores, shared with other work.** Every process (load generator included) competes for the "
    "same CPUs, so absolute latencies are pessimistic; compare windows of the same run (baseline vs fault), not runs.",
    "- **Load is closed-loop per Locust user** (`constant_throughput`), with several users per endpoint so one slow "
    "answer does not stop an endpoint's load; under a very slow server the offered rate still drops.",
]


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="resilience report")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder with the resilience-*.json results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    records = results_load(args.out)
    if not records:
        raise SystemExit(f"no resilience-*.json results in {args.out}: run `manage.py resilience run` first")
    markdown = render(records)
    DOCS_PATH.write_text(markdown)
    print(f"wrote {DOCS_PATH.relative_to(REPO_ROOT)} and charts in {CHARTS_DIR.relative_to(REPO_ROOT)}/")


if __name__ == "__main__":
    main()
