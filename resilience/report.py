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

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "resilience" / "results"
DOCS_PATH = REPO_ROOT / "docs" / "resilience-report.md"
CHARTS_DIR = REPO_ROOT / "docs" / "resilience"
ENDPOINT_ORDER = ("balance", "transactions", "transfer", "transfer_dup", "application", "confirm", "confirm_dup",
                  "spike_application", "spike_confirm")

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


# --- charts ---------------------------------------------------------------------------------------------------


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
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


# --- text -----------------------------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def _window(metrics: dict[str, Any], endpoint: str, window: str) -> dict[str, Any]:
    return ((metrics.get("endpoints") or {}).get(endpoint) or {}).get(window) or {}


def headline(result: dict[str, Any]) -> str:
    """One sentence of measured figures per experiment."""
    metrics = result.get("metrics") or {}
    if result["verdict"].startswith("NOT RUN"):
        return result["verdict"]
    code = result["id"]
    if result["kind"] == "static":
        shown = ", ".join(f"{key} = {fmt(value)}" for key, value in list(metrics.items())[:6]
                          if not isinstance(value, (dict, list)))
        return shown or "see notes"
    if code == "E5":
        parts = []
        for name in sorted(metrics):
            run = metrics.get(name) or {}
            if not isinstance(run, dict) or "endpoints" not in run:
                continue
            balance = ((run.get("endpoints") or {}).get("balance") or {})
            transfers = run.get("transfers") or {}
            spike = _window(run, "spike_application", "fault")
            parts.append(f"run {name}: balance p95 {fmt(_window(run, 'balance', 'baseline').get('p95'))} → "
                         f"{fmt(_window(run, 'balance', 'fault').get('p95'))} ms "
                         f"({fmt(balance.get('p95_degradation_pct'))} %), transfer e2e p95 "
                         f"{fmt(transfers.get('e2e_p95_baseline_s'), 2)} → "
                         f"{fmt(transfers.get('e2e_p95_fault_s'), 2)} s, "
                         f"{fmt(spike.get('n'))} spike applications of which "
                         f"{fmt((spike.get('codes') or {}).get('429', 0))} "
                         f"answered 429, peak backlog {fmt((run.get('outbox') or {}).get('max_open'))} rows")
        return "; ".join(parts)
    transfers = metrics.get("transfers") or {}
    common = (f"lost {fmt(transfers.get('lost'))}, doubled {fmt(transfers.get('doubled'))}, conservation delta "
              f"{fmt((metrics.get('money') or {}).get('conservation_delta'))} yen, invariants failed "
              f"{fmt((metrics.get('invariants') or {}).get('failed'))}")
    if code == "E1":
        return (f"during the outage balance {pct(_window(metrics, 'balance', 'fault').get('availability'))} 2xx, "
                f"transfer POST {pct(_window(metrics, 'transfer', 'fault').get('availability'))} 2xx; "
                f"{fmt(transfers.get('delayed'))} transfers delayed, their accepted→terminal p50/p95/max "
                f"{fmt(transfers.get('delayed_e2e_s', {}).get('p50'))}/"
                f"{fmt(transfers.get('delayed_e2e_s', {}).get('p95'))}/"
                f"{fmt(transfers.get('delayed_e2e_s', {}).get('max'))} s; backlog peak "
                f"{fmt((metrics.get('outbox') or {}).get('max_open'))} rows, drained "
                f"{fmt((metrics.get('outbox') or {}).get('drain_s'))} s after recovery; {common}")
    if code == "E2":
        return (f"balance p95 {fmt(_window(metrics, 'balance', 'baseline').get('p95'))} → "
                f"{fmt(_window(metrics, 'balance', 'fault').get('p95'))} ms, transfer POST p95 "
                f"{fmt(_window(metrics, 'transfer', 'baseline').get('p95'))} → "
                f"{fmt(_window(metrics, 'transfer', 'fault').get('p95'))} ms; transfer e2e p95 "
                f"{fmt(transfers.get('e2e_p95_baseline_s'), 2)} → {fmt(transfers.get('e2e_p95_fault_s'), 2)} s; "
                f"failed/compensated {fmt(transfers.get('failed_or_compensated'))}; {common}")
    if code == "E3":
        mails = metrics.get("mails") or {}
        return (f"completions {fmt(transfers.get('completed_per_s_baseline'), 2)}/s before, "
                f"{fmt(transfers.get('completed_per_s_fault'), 2)}/s during the bug; "
                f"{fmt(mails.get('dead_lettered_during_bug'))} mail rows dead-lettered and replayed; completed "
                f"transfers without exactly one mail {fmt(mails.get('completed_without_exactly_one'))}; {common}")
    if code == "E4":
        e4 = metrics.get("e4") or {}
        return (f"{fmt(e4.get('worker_kills'))} core-worker kills; web master kill: restart "
                f"{fmt(e4.get('web_restart_s'))} s, "
                f"whole-application outage {fmt(e4.get('web_outage_s'))} s with {fmt(e4.get('web_failed_requests'))} "
                f"failed requests; database refusing connections {fmt(e4.get('db_block_s'))} s: outage "
                f"{fmt(e4.get('db_outage_s'))} s, {fmt(e4.get('db_failed_requests'))} failed requests; {common}")
    if code == "E4b":
        e4 = metrics.get("e4") or {}
        return (f"one of two instances killed for {fmt(e4.get('instance_down_s'))} s: "
                f"{fmt(e4.get('instance_failed_requests'))} of {fmt(e4.get('instance_requests_in_window'))} requests "
                f"failed ({pct(e4.get('instance_error_rate'))}), outage seconds "
                f"{fmt(e4.get('instance_outage_s'))}; {common}")
    if code == "E9":
        return (f"create_account stopped: balance p95 {fmt(_window(metrics, 'balance', 'baseline').get('p95'))} → "
                f"{fmt(_window(metrics, 'balance', 'fault').get('p95'))} ms, transfer completions "
                f"{fmt(transfers.get('completed_per_s_baseline'), 2)} → "
                f"{fmt(transfers.get('completed_per_s_fault'), 2)}/s, "
                f"applications left open after the restart "
                f"{fmt(((metrics.get('drain') or {}).get('left') or {}).get('applications_open'))}; {common}")
    if code == "E11":
        failed = {name: (_window(metrics, name, 'all').get('n', 0) or 0)
                  - (_window(metrics, name, 'all').get('ok', 0) or 0)
                  for name in (metrics.get('endpoints') or {})}
        return f"failed requests per endpoint over the whole run {failed}; {common}"
    if code == "E17":
        comp = transfers.get("compensated_e2e_s") or {}
        return (f"{fmt(transfers.get('received'))} transfers: by phase {transfers.get('by_phase')}; compensation "
                f"latency p95 {fmt(comp.get('p95'))} s; {common}")
    if code == "E18":
        dup = metrics.get("duplicates") or {}
        return (f"{fmt(dup.get('transfer_pairs'))} transfer pairs → "
                f"{fmt(dup.get('transfers_created'))} transfers for "
                f"{fmt(dup.get('transfer_keys_accepted'))} keys; "
                f"{fmt(dup.get('confirm_pairs'))} confirm pairs, answers "
                f"{dup.get('confirm_pair_statuses')}; extra create_account rows "
                f"{fmt(dup.get('applications_with_extra_create_rows'))}, extra core customers "
                f"{fmt(dup.get('extra_core_customers'))}; {common}")
    return common


def endpoint_table(metrics: dict[str, Any]) -> list[str]:
    endpoints = metrics.get("endpoints") or {}
    names = [name for name in ENDPOINT_ORDER if name in endpoints] + \
        sorted(name for name in endpoints if name not in ENDPOINT_ORDER)
    lines = ["| endpoint | baseline 2xx | baseline p50 / p95 ms | fault 2xx | fault p50 / p95 / max ms | "
             "fault status codes | after 2xx |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in names:
        base, fault, after = (_window(metrics, name, window) for window in ("baseline", "fault", "after"))
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
    for run in result.get("runs", []):
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
             "E16", "E17", "E18"]
    ids = [code for code in order if code in chosen] + sorted(code for code in chosen if code not in order)
    charts: dict[str, str] = {}
    if make_charts:
        for code in ids:
            result, _record = chosen[code]
            for run in result.get("runs", []):
                if not run.get("series"):
                    continue
                key = f"{code}-{run['variant']}"
                name = f"{code}.png" if run["variant"] == "run" else f"{key}.png"
                chart_run(run, title=f"{code} {result['title']}" + ("" if run["variant"] == "run"
                                                                     else f" — run {run['variant']}"),
                          path=charts_dir / name)
                charts[key] = f"resilience/{name}"
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
