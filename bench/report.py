"""Targets, ratios and the markdown report of bench/relay.py (also written into docs/performance.md)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from resilience.environment import REPO_ROOT

DOCS_PATH = REPO_ROOT / "docs" / "performance.md"
BEGIN_MARK = "<!-- bench/relay.py: begin generated section (rewritten by every full run) -->"
END_MARK = "<!-- bench/relay.py: end generated section -->"
SLOW_LATENCY_MS = 20
DISTURBANCE_CORES = 0.1  # CPU from outside the benchmark (other processes, steal) above this average: disturbed
DISTURBANCE_XACTS_PER_S = 20  # transactions/s on the server's other databases above this: disturbed (shared WAL)
SCALING_EFFICIENCY_TARGET = 0.75  # "scales": the largest concurrency reaches 75 % of what scaling could give

# Functions whose inclusive share of CPU samples the profile summary reports (file suffix:function).
PROFILE_WATCHED = (
    "celery/app/trace.py:trace_task",
    "outbox/relay.py:claim",
    "outbox/relay.py:deliver",
    "outbox/relay.py:settle",
    "outbox/tasks.py:relay_nudge",
    "celery/fixups/django.py:close_database",
    "django/db/backends/base/base.py:.connect",
    "django/db/models/query.py:__iter__",
    "outbox/core_banking/client.py:_call",
)


@dataclass(frozen=True)
class Target:
    """One target of the issue: the measured ratio, the bound, and which scenario to profile if missed."""

    name: str
    ratio: float
    bound: float
    profile: str | None

    @property
    def passed(self) -> bool:
        return self.ratio >= self.bound

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


# What-if rows, run only for a scenario behind a missed target: the same scenario with one change for the
# relay worker, never the measured configuration. {scenario: (label of the what-if row, its ratio's baseline)}
WHATIF_SCENARIOS = {
    "ours_noop": ("what-if: ours, no-op, `synchronous_commit=off` on the relay's connection", "raw", "completed"),
    "ours_core_0ms": ("what-if: ours → core mock, 0 ms, `synchronous_commit=off` on the relay's connection",
                      "ceiling_withdraw", "requests"),
}


def whatif_name(scenario: str) -> str:
    return f"whatif_{scenario}_sync_off"


def whatif_worker_env(bank_dsn: str) -> dict[str, str]:
    """The relay's settles (and claims) commit without waiting for the WAL flush: a crash can lose the last
    settles, whose rows are then delivered again (at-least-once, idempotent), never lost."""
    return {"DATABASE_URL": f"{bank_dsn}?options=-c%20synchronous_commit%3Doff"}


def rate(result: dict[str, Any], milestone: str = "completed") -> float:
    return result["rows_per_s"][milestone]


def scaling_reachable(results: dict[str, Any], *, low: int, high: int) -> float:
    """What the 20 ms drain at concurrency `high` can reach: linear scaling from `low`, but never more than the
    0 ms drain (the same work without the wait, which is CPU-bound on this machine)."""
    linear = rate(results[f"ours_core_20ms_c{low}"]) * high / low
    return min(linear, rate(results["ours_core_0ms"]))


def targets_evaluate(results: dict[str, Any], *, scaling: tuple[int, ...]) -> list[Target]:
    """The issue's four targets as ratios of figures from this run."""
    ours_noop = rate(results["ours_noop"])
    low, high = min(scaling), max(scaling)
    return [
        Target("no-op drain / raw psycopg loop (both write the attempt row)", ours_noop / rate(results["raw"]), 0.5,
               "ours_noop"),
        Target("no-op drain / peer (rows relayed)", ours_noop / rate(results["peer"], "relayed"), 1.0, "ours_noop"),
        Target("0 ms mock drain / mock ceiling (withdraw)",
               rate(results["ours_core_0ms"]) / rate(results["ceiling_withdraw"], "requests"), 0.8, "ours_core_0ms"),
        Target(f"20 ms mock: rate at c={high} / min(linear from c={low}, 0 ms drain rate)",
               rate(results[f"ours_core_20ms_c{high}"]) / scaling_reachable(results, low=low, high=high),
               SCALING_EFFICIENCY_TARGET, None),
    ]


# --- rendering -------------------------------------------------------------------------------------------


def outside_cores(result: dict[str, Any]) -> float:
    """Average CPU cores used outside the benchmark during the run (other processes and hypervisor steal)."""
    cpu = result["cpu"]
    return (cpu["not the bench"] + cpu["steal"]) / max(cpu["wall_s"], 0.01)


def disturbed(result: dict[str, Any]) -> bool:
    """True when someone else's CPU or PostgreSQL load overlapped the run."""
    return (outside_cores(result) > DISTURBANCE_CORES
            or result.get("other_db_xacts_per_s", 0) > DISTURBANCE_XACTS_PER_S)


def brief(result: dict[str, Any]) -> str:
    """One progress line: rows/s per milestone, and the outside CPU use."""
    rates = ", ".join(f"{name} {value:,.0f}/s" for name, value in result["rows_per_s"].items())
    outside = f"{outside_cores(result):.2f} cores, {result.get('other_db_xacts_per_s', 0):.0f} xacts/s on other dbs"
    return f"{rates} (outside the bench: {outside}{', disturbed' if disturbed(result) else ''})"


def _cpu(result: dict[str, Any]) -> str:
    cpu = result["cpu"]
    groups = [f"{label} {seconds:.1f}" for label, seconds in cpu.items()
              if label not in ("machine_busy_pct", "wall_s") and seconds >= 0.05]
    mark = (f" ⚠ disturbed ({result.get('other_db_xacts_per_s', 0):.0f} xacts/s on other dbs)"
            if disturbed(result) else "")
    return f"{' · '.join(groups)} (busy {cpu['machine_busy_pct']:.0f} %){mark}"


def _row(what: str, result: dict[str, Any], milestone: str, setup: str) -> str:
    seconds = result["seconds"][milestone]
    repeats = result.get("repeat_rates", [])
    if len(repeats) > 1:
        setup += "; runs " + " / ".join(f"{value[milestone]:,.0f}" for value in repeats)
        setup += ", the median shown" if len(repeats) > 2 else ", the higher shown"
    return (f"| {what} | {setup} | {result['n']:,} | {seconds:.2f} | **{rate(result, milestone):,.0f}** | "
            f"{result['pg_sessions_opened']} | {_cpu(result)} |")


def _scenario_table(run: dict[str, Any]) -> list[str]:
    results, processes, batch = run["results"], run["drain_processes"], run["batch_size"]
    relay = f"1 Celery worker, prefork c={processes}, batch {batch}"
    accounts = f"{processes} closed-loop clients, {results['ceiling_withdraw']['accounts']} accounts"
    rows = [
        "| scenario | set-up | N | s | rows/s | new PG sessions | CPU core-seconds during the run |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        _row("raw psycopg loop: claim + settle + attempt row (the limit)", results["raw"], "completed",
             f"{processes} processes, batch {batch}"),
        _row("raw psycopg loop without the attempt row (information)", results["raw_no_attempt"], "completed",
             f"{processes} processes, batch {batch}"),
        _row("**ours**, no-op handler", results["ours_noop"], "completed", relay),
        _row("peer django-celery-outbox: rows relayed", results["peer"], "relayed",
             f"{processes} relay processes, batch {batch}"),
        _row("peer: the relayed no-op tasks executed", results["peer"], "executed",
             f"+ 1 Celery worker, prefork c={processes}"),
        _row("core mock ceiling: POST withdraw (direct load)", results["ceiling_withdraw"], "requests", accounts),
        _row("core mock ceiling: POST deposit (direct load)", results["ceiling_deposit"], "requests", accounts),
        _row("core mock: POST withdraw, all on one account (information)", results["ceiling_withdraw_one_account"],
             "requests", f"{processes} closed-loop clients, 1 account"),
        _row("**ours** → core mock deposit, 0 ms added", results["ours_core_0ms"], "completed",
             f"prefork c={processes}"),
    ]
    rows += [_row(f"**ours** → core mock deposit, {SLOW_LATENCY_MS} ms added", results[f"ours_core_20ms_c{c}"],
                  "completed", f"prefork c={c}") for c in run["scaling"]]
    rows += [_row(label, results[whatif_name(scenario)], "completed", f"as {scenario}")
             for scenario, (label, _, _) in WHATIF_SCENARIOS.items() if whatif_name(scenario) in results]
    return rows


def _ratio_table(run: dict[str, Any]) -> list[str]:
    results = run["results"]
    ours = rate(results["ours_noop"])
    rows = ["| ratio | value | target | result |", "| --- | ---: | ---: | --- |"]
    rows += [f"| {t['name']} | {t['ratio']:.2f} | ≥ {t['bound']:g} | {'PASS' if t['passed'] else '**MISS**'} |"
             for t in run["targets"]]
    information = (
        ("no-op drain / raw loop without the attempt row", ours / rate(results["raw_no_attempt"])),
        *((f"{label} / {baseline}", rate(results[whatif_name(scenario)]) / rate(results[baseline], milestone))
          for scenario, (label, baseline, milestone) in WHATIF_SCENARIOS.items()
          if whatif_name(scenario) in results),
        ("no-op drain / peer (tasks executed)", ours / rate(results["peer"], "executed")),
        ("0 ms mock drain / mock ceiling (deposit, the route the drain calls)",
         rate(results["ours_core_0ms"]) / rate(results["ceiling_deposit"], "requests")),
    )
    rows += [f"| {name} | {value:.2f} | (information) | |" for name, value in information]
    return rows


def _scaling_table(run: dict[str, Any]) -> list[str]:
    results, low = run["results"], min(run["scaling"])
    rows = ["| worker concurrency | rows/s | one blocking call at a time per process allows at most | share | "
            "reachable (linear from the first row, capped by the 0 ms drain) | share |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for concurrency in run["scaling"]:
        measured = rate(results[f"ours_core_20ms_c{concurrency}"])
        ideal = concurrency * 1000 / SLOW_LATENCY_MS
        reachable = scaling_reachable(results, low=low, high=concurrency)
        rows.append(f"| {concurrency} | {measured:,.0f} | {ideal:,.0f} | {measured / ideal:.0%} | "
                    f"{reachable:,.0f} | {measured / reachable:.0%} |")
    return rows


def _profile_lines(run: dict[str, Any]) -> list[str]:
    lines = []
    for scenario, summary in run["profiles"].items():
        def shares(values: dict[str, float], code: bool = False) -> str:
            quote = "`" if code else ""
            return ", ".join(f"{quote}{name}{quote} {pct:.0f} %" for name, pct in values.items() if pct >= 1)

        areas, watched = shares(summary["areas_pct"]), shares(summary["watched_pct"], code=True)
        own = shares(summary["top_own_pct"], code=True)
        lines += [f"- **{scenario}** (`{summary['file']}`, N = {summary['n']:,}, {summary['samples']:,} wall-clock "
                  f"samples of the worker's pool processes): {areas}.", f"  Inclusive: {watched}.",
                  f"  Top own time: {own}."]
    return lines


def render(run: dict[str, Any]) -> str:
    """The generated markdown section."""
    machine = run["machine"]
    lines = [
        BEGIN_MARK, "",
        f"Run {run['started_at']} on commit `{run['commit']}`: {machine['nproc']} × {machine['cpu_model']}, "
        f"{machine['ram_gib']} GiB RAM, Python {machine['python']}, PostgreSQL {machine['postgres']}, "
        f"Redis {machine['redis']}. N = {run['n']:,} rows per drain ({run['n_core']:,} for the 0 ms core drain, "
        f"{run['n_slow']:,} per 20 ms run; the raw loop and the no-op drain run {run['repeat']}× interleaved, "
        f"median shown), "
        f"claim batch {run['batch_size']}, completion polled every {run['poll_seconds']} s; the run took "
        f"{run['duration_s'] / 60:.1f} min.", "",
        *_scenario_table(run), "",
        *_ratio_table(run), "",
        f"{SLOW_LATENCY_MS} ms added latency, by worker concurrency (prefork processes):", "",
        *_scaling_table(run), "",
    ]
    if run["profiles"]:
        lines += ["py-spy profiles of the scenarios behind a missed target (separate runs; their timings are not "
                  "used):", "", *_profile_lines(run), ""]
    return "\n".join([*lines, END_MARK])


def docs_update(markdown: str) -> None:
    """Replace the generated section of docs/performance.md (the hand-written text around it stays)."""
    text = DOCS_PATH.read_text()
    if BEGIN_MARK not in text or END_MARK not in text:
        raise RuntimeError(f"{DOCS_PATH} has no generated section markers")
    before, rest = text.split(BEGIN_MARK, 1)
    after = rest.split(END_MARK, 1)[1]
    DOCS_PATH.write_text(before + markdown + after)
