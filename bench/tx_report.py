"""The report of bench/transfers.py: targets, the markdown of a run and the generated section of
docs/performance.md. Also the figures the report and the run share (the web's shape, the rates, the targets).
"""
from __future__ import annotations

import os
from typing import Any

from resilience import environment as shared_env

DOCS_PATH = shared_env.REPO_ROOT / "docs" / "performance.md"
BEGIN_MARK = "<!-- bench/transfers.py: begin generated section (rewritten by every full run) -->"
END_MARK = "<!-- bench/transfers.py: end generated section -->"
WEB_WORKERS, WEB_THREADS = 2, 4  # the Procfile's web process (gthread, 2 workers × 4 threads): one per core
WRK_CONNECTIONS = 16  # closed loop: twice the server's 8 request slots, so none idles
E2E_RATE = 100.0
# The 100/s run comes from many customers, as a bank's load does: E2E_CUSTOMERS logins, each with its own account,
# each paying the next one (a ring), so no account row is shared by more than two transfers' steps at a time.
E2E_CUSTOMERS = 50
TARGETS = {"accept_ratio_raw": 0.30, "accept_p99_ms": 20.0, "e2e_p50_ms": 50.0, "e2e_p99_ms": 250.0,
           "hot_accept_ratio_plain": 0.20, "hot_accept_p99_ms": 100.0, "balance_ratio_plain": 0.40,
           "payroll_rate": 50.0, "floor_cpu_ratio": 3.0}


def backlog_flat(run: dict[str, Any]) -> bool:
    """The relay kept up: backlog slope < 2 rows/s over the load's second half, never above 2 s of arrivals,
    every transfer completed."""
    backlog = run["backlog"]
    return (backlog["second_half_slope_per_s"] < 2.0 and backlog["during_max"] <= 2 * run["rate"]
            and run["db"]["not_completed"] == 0)


def _f(value: float | None, digits: int = 1) -> str:
    if value == float("inf"):
        return "not completed"
    return "–" if value is None else f"{value:,.{digits}f}"


def _cpu_line(cpu: dict[str, float]) -> str:
    wall = max(cpu.get("wall_s", 0), 0.01)
    parts = [f"{label} {cpu[label] / wall:.2f}" for label in cpu
             if label not in ("machine_busy_pct", "wall_s") and cpu[label] / wall >= 0.01]
    return ", ".join(parts) + f" (busy {cpu['machine_busy_pct']} %)"


BENCH_GROUPS = ("web", "relay worker", "core mock", "postgres", "redis", "beat")


def cpu_per_transfer(run: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds per completed transfer of each process group during the load, for a run whose backlog
    stayed flat (its work was done inside the measured window), plus `total` and the cores 100/s would need."""
    cpu, completed = run["load"]["cpu"], run["db"]["completed"]
    per = {label: cpu[label] * 1000 / completed for label in BENCH_GROUPS if label in cpu and completed}
    total = sum(per.values())
    return {**per, "total": total, "cores_at_100_per_s": total * E2E_RATE / 1000}


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    ours, raw = results["max"]["rps"], results["raw"]["rps"]
    p99 = results["fixed"]["latency_ms"]["p99"]
    e2e = results["e2e"]
    lat, backlog = e2e["db"]["latency_ms"], e2e["backlog"]
    flat = backlog_flat(e2e)
    return [
        {"name": "accept: ours / raw psycopg loop ≥ 0.30", "value": f"{ours / raw:.2f}" if raw else "raw loop failed",
         "passed": bool(raw) and ours / raw >= TARGETS["accept_ratio_raw"], "profile": "web"},
        {"name": "accept: p99 ≤ 20 ms at 50 % of max", "value": f"{_f(p99)} ms",
         "passed": p99 is not None and p99 <= TARGETS["accept_p99_ms"], "profile": "web"},
        {"name": "accepted → completed p50 ≤ 50 ms at 100/s", "value": f"{_f(lat['p50'])} ms",
         "passed": lat["p50"] is not None and lat["p50"] <= TARGETS["e2e_p50_ms"], "profile": "relay"},
        {"name": "accepted → completed p99 ≤ 250 ms at 100/s", "value": f"{_f(lat['p99'])} ms",
         "passed": lat["p99"] is not None and lat["p99"] <= TARGETS["e2e_p99_ms"], "profile": "relay"},
        {"name": "backlog flat at 100/s (2nd-half slope < 2 rows/s, max ≤ 200 open rows, all completed)",
         "value": f"slope {backlog['second_half_slope_per_s']}/s, max {backlog['during_max']}",
         "passed": flat, "profile": "relay"},
        *_hot_targets(results),
    ]


def _hot_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 17's rows: accept on one hot source account (that is `max`), balance GET, the payroll run."""
    ours, plain, rows = results["max"], results["plain"], []
    p99 = ours["latency_ms_closed_loop"].get("p99")
    rows += [
        {"name": "accept on one hot source account, 16 clients: ours / plain view ≥ 0.20",
         "value": f"{ours['rps'] / plain['rps']:.2f}",
         "passed": ours["rps"] / plain["rps"] >= TARGETS["hot_accept_ratio_plain"], "profile": "web"},
        {"name": "accept on one hot source account, 16 clients: p99 ≤ 100 ms (closed loop)",
         "value": f"{_f(p99)} ms", "passed": p99 is not None and p99 <= TARGETS["hot_accept_p99_ms"],
         "profile": "web"}]
    if "balance" in results:
        ratio = results["balance"]["rps"] / plain["rps"]
        rows.append({"name": "balance GET / plain view ≥ 0.40", "value": f"{ratio:.2f}",
                     "passed": ratio >= TARGETS["balance_ratio_plain"], "profile": "balance"})
    if (ratio := floor_ratio(results)) is not None:
        rows.append({"name": "CPU per completed transfer: ours / raw floor (psycopg + httpx) ≤ 3×",
                     "value": f"{ratio:.2f}×", "passed": ratio <= TARGETS["floor_cpu_ratio"], "profile": "relay"})
    if "e2e_payroll" in results:
        run = results["e2e_payroll"]
        p99 = run["db"]["latency_ms"]["p99"]
        rows += [
            {"name": f"hot source account (payroll) e2e: backlog flat at {run['rate']:g}/s (goal ≥ 50/s)",
             "value": f"slope {run['backlog']['second_half_slope_per_s']}/s, max {run['backlog']['during_max']}",
             "passed": backlog_flat(run) and run["rate"] >= TARGETS["payroll_rate"], "profile": "relay"},
            {"name": "hot source account (payroll) e2e: accepted → completed p99 ≤ 250 ms",
             "value": f"{_f(p99)} ms", "passed": p99 is not None and p99 <= TARGETS["e2e_p99_ms"],
             "profile": "relay"}]
    return rows


def _e2e_lines(e2e: dict[str, Any]) -> list[str]:
    backlog, load = e2e["backlog"], e2e["load"]
    return [
        f"{e2e['rate']:g} transfers/s offered for {load['send_seconds']:.0f} s (open loop) "
        + (f"by one payer (one source account) paying {E2E_CUSTOMERS} payees in turn (payroll)"
           if e2e.get("payroll") else f"by {E2E_CUSTOMERS} customers, each paying the next (a ring of accounts)")
        + "; relay worker "
        f"`-Q core,notify,default --concurrency {e2e['concurrency']}` (prefork), one beat, core mock gunicorn "
        "gthread 2 × 8. Latency = "
        "`TransferCompleted.recorded_at − TransferRequested.recorded_at` (database clock).", "",
        "| accepted | achieved rate | completed | p50 | p95 | p99 | max |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {e2e['db']['accepted']:,} | {_f(e2e['db']['accepted_rate'])}/s | {e2e['db']['completed']:,} | "
        f"**{_f(e2e['db']['latency_ms']['p50'])} ms** | {_f(e2e['db']['latency_ms']['p95'])} ms | "
        f"**{_f(e2e['db']['latency_ms']['p99'])} ms** | {_f(e2e['db']['latency_ms']['max'])} ms |", "",
        f"Backlog (open outbox rows, sampled each second during the load): min {backlog['during_min']}, "
        f"max {backlog['during_max']}, last {backlog['during_last']}; slope over the second half "
        f"{backlog['second_half_slope_per_s']} rows/s ({'flat' if backlog_flat(e2e) else 'not flat'}); drained "
        f"{backlog['drain_after_load_s']} s after the load stopped. Accept latency during this run (client, from "
        f"intended send time): p50 {_f(load['latency_ms']['p50'])} ms, p99 {_f(load['latency_ms']['p99'])} ms. CPU: "
        f"{_cpu_line(load['cpu'])}.", "",
        *(["CPU per completed transfer (this run kept up, so its work fell inside the measured window): "
           + ", ".join(f"{label} {ms:.1f} ms" for label, ms in per.items()
                       if label not in ("total", "cores_at_100_per_s"))
           + f"; total **{per['total']:.1f} ms**, so {E2E_RATE:g} transfers/s need about "
           f"**{per['cores_at_100_per_s']:.1f} cores** of this machine's {os.cpu_count()}.", ""]
          if backlog_flat(e2e) and (per := cpu_per_transfer(e2e)) else []),
    ]


def kept_up_run(r: dict[str, Any]) -> dict[str, Any] | None:
    """The ring run whose work fell inside its measured window: the sustained-rate run, or the 100/s run when
    its backlog stayed flat."""
    run = r.get("e2e_sustained") or r.get("e2e")
    return run if run is not None and backlog_flat(run) else None


def floor_ratio(r: dict[str, Any]) -> float | None:
    """Ours / the raw floor, CPU per completed transfer (all groups, the core mock included on both sides)."""
    floor, run = r.get("raw_floor", {}), kept_up_run(r)
    if run is None or not floor.get("transfers"):
        return None
    return cpu_per_transfer(run)["total"] / floor["cpu_ms_per_transfer"]["total"]


def _floor_lines(r: dict[str, Any]) -> list[str]:
    floor = r.get("raw_floor")
    if not floor:
        return []
    if "skipped" in floor:
        return ["### Raw floor of a whole transfer", "", f"Not measured: {floor['skipped']}.", ""]
    ratio = floor_ratio(r)
    per = floor["cpu_ms_per_transfer"]
    return ["### Raw floor of a whole transfer", "",
            f"`bench/tx_raw_floor.py`: one psycopg connection and one httpx client replay one real transfer's bank "
            f"statements ({floor['statements']} as Django sends them, COMMITs included: the accept and "
            f"{floor['legs']} legs, in their "
            "transaction boundaries) and its two core calls, one transfer after the other, "
            f"{floor['transfers']:,} transfers ({floor['errors']} errors) in {floor['seconds']:.1f} s. "
            "CPU per transfer: "
            + ", ".join(f"{label} {ms} ms" for label, ms in per.items() if label != "total")
            + f"; total **{per['total']} ms**. Ours (the ring run that kept up, all groups): "
            + (f"**{cpu_per_transfer(kept_up_run(r))['total']:.1f} ms**, ours / raw floor = **{ratio:.2f}×**."
               if ratio is not None else "no run kept up, so no figure."), ""]


def _work_lines(r: dict[str, Any]) -> list[str]:
    """Database work and peak memory per e2e run."""
    runs = [(name, r[key]) for name, key in (("ring 100/s", "e2e"), ("ring, sustained rate", "e2e_sustained"),
                                             ("payroll", "e2e_payroll")) if key in r]
    lines = ["### Database work and memory of the end-to-end runs", "",
             "Per completed transfer, from `pg_stat_database` deltas over each run (load, drain and 11 s for idle "
             "sessions to report; includes the benchmark's own backlog and latency queries, about one a second):", "",
             "| run | database | commits | rollbacks | rows inserted | updated | deleted | fetched | returned |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, run in runs:
        work = (run.get("database_work") or {}).get("per_completed_transfer", {})
        lines += [f"| {name} ({run['db']['completed']:,} completed) | {db} | **{w['xact_commit']}** | "
                  f"{w['xact_rollback']} | {w['tup_inserted']} | {w['tup_updated']} | {w['tup_deleted']} | "
                  f"{w['tup_fetched']} | {w['tup_returned']} |" for db, w in sorted(work.items())]
    sample = r.get("statements", {})
    if "per_transfer" in sample:
        legs = " + ".join(str(leg["statements"]) for leg in sample["legs"])
        lines += ["", f"Statements in the bank database of one transfer, counted in the benchmark process "
                  "(`CaptureQueriesContext`, as tests/transfers/services/test_statement_budget.py counts them; "
                  "pg_stat_statements is not loaded on this server): accept "
                  f"{sample['accept']} (+1 for the bearer token's session check in the web), legs {legs} "
                  f"(claim to settle, through `relay.drain`) = **{sample['per_transfer'] + 1}** per transfer."]
    elif sample:
        lines += ["", f"Statements of one transfer: not counted ({sample.get('skipped')})."]
    groups = sorted({label for _, run in runs for label in run.get("peak_memory") or {}})
    lines += ["", "Peak memory of each process group during each run (sum of the processes' PSS, sampled every "
              "0.5 s from /proc; postgres and redis are the whole servers):", "",
              "| group | " + " | ".join(name for name, _ in runs) + " |", "| --- |" + " --- |" * len(runs)]
    for label in groups:
        cells = [(run.get("peak_memory") or {}).get(label) for _, run in runs]
        lines.append(f"| {label} | " + " | ".join(f"{c['peak_mib']:,.0f} MiB ({c['processes']} proc)" if c else "–"
                                                    for c in cells) + " |")
    return [*lines, ""]


def _scaling_lines(r: dict[str, Any]) -> list[str]:
    lines = []
    if relay := r.get("scaling_relay"):
        lines += ["### Scaling: relay worker processes", "",
                  f"A backlog of {relay[0]['accepted']:,} transfers (ring of customers) is accepted with no relay "
                  "running, then one relay worker with c prefork processes (and the beat) drains it. Rate = completed "
                  "transfers from the first leg start to the last completion (the worker's start-up is not in it; "
                  "runs before 2026-12-03 17:00 timed from the first completion, which left out the withdrawals and "
                  "overstated the rate about twofold); CPU from the worker's readiness until the backlog is gone.",
                  "",
                  "| processes | completed | completed/s | CPU ms per transfer | CPU cores used (avg) |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {row['concurrency']} | {row['completed']:,} | **{_f(row['rate'])}** | "
                  + ", ".join(f"{k} {v}" for k, v in row["cpu_ms_per_transfer"].items())
                  + f" | {_cpu_line(row['cpu'])} |" for row in relay]
        lines.append("")
    if web := r.get("scaling_web"):
        lines += ["### Scaling: web workers", "",
                  f"The web restarted with w gthread workers × {WEB_THREADS} threads; wrk (closed loop, 2 connections "
                  "per request slot) posts the ring of customers' transfers with no relay running: accepts/s.", "",
                  "| web workers | connections | accepted/s | p99 (closed loop) | CPU cores used (avg) |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {row['workers']} | {row['connections']} | **{row['rps']:,.0f}**{_refused(row)} | "
                  f"{_f(row['latency_ms_closed_loop'].get('p99'))} ms | {_cpu_line(row['cpu'])} |" for row in web]
        lines.append("")
    return lines


def _refused(row: dict[str, Any]) -> str:
    """A closed-loop row's non-2xx answers, said beside its rate (a rate of refusals measures nothing)."""
    return f" ({row['non_2xx']:,} of {row['requests']:,} answers not 2xx: not measured)" if row.get("non_2xx") else ""


def render(record: dict[str, Any]) -> str:
    r, m = record["results"], record["machine"]
    ours, raw, plain, fixed, e2e = r["max"], r["raw"], r["plain"], r["fixed"], r["e2e"]
    lines = [
        BEGIN_MARK, "",
        f"Run {record['started_at']} · commit `{record['commit']}` · {m['nproc']} × {m['cpu_model']}, "
        f"{m['ram_gib']} GiB RAM · Python {m['python']}, PostgreSQL {m['postgres']}, Redis {m['redis']} · "
        f"{'quick' if record['quick'] else 'full'} run, {record['duration_s']} s.", "",
        f"Web: gunicorn gthread {WEB_WORKERS} workers × {WEB_THREADS} threads (the Procfile's), "
        "`bench.settings_transfers` "
        "(production settings; write, login and read throttles off, `TRANSFER_DAILY_LIMIT` = 10¹² yen), no "
        "Idempotency-Key, 1 yen per transfer, each accept scenario on its own fresh source account.", "",
        "### Accept (`POST /v1/api/transfer` → 202)", "",
        "| what | load | result | CPU cores used (avg) |", "| --- | --- | --- | --- |",
        f"| **ours**: transfer route, max | wrk closed loop, {WRK_CONNECTIONS} conn, {ours['seconds']:.0f} s | "
        f"**{ours['rps']:,.0f} req/s** ({ours['ok']:,} × 202, {ours['non_2xx']} other) | {_cpu_line(ours['cpu'])} |",
        f"| raw psycopg loop, same statements | {raw['connections']} connections ({WEB_WORKERS} proc × {WEB_THREADS} "
        f"threads), {raw['transfers']:,} transfers | **{raw['rps']:,.0f} transfers/s** ({raw['statements']} statements "
        f"each, {raw['errors']} errors) | {_cpu_line(raw['cpu'])} |",
        f"| plain Django JSON view (`/bench/ping`, no DB) | wrk closed loop, {WRK_CONNECTIONS} conn, "
        f"{plain['seconds']:.0f} s | **{plain['rps']:,.0f} req/s** | {_cpu_line(plain['cpu'])} |",
        *([f"| balance GET (`/v1/api/balance?accountId=`, bearer token) | wrk closed loop, {WRK_CONNECTIONS} conn, "
           f"{bal['seconds']:.0f} s | **{bal['rps']:,.0f} req/s** ({bal['non_2xx']} non-2xx) | "
           f"{_cpu_line(bal['cpu'])} |"] if (bal := r.get("balance")) else []),
        f"| ours at 50 % of max | fixed rate {fixed['rate']:.0f}/s, {fixed['send_seconds']:.0f} s, open loop | "
        f"p50 **{_f(fixed['latency_ms']['p50'])} ms**, p90 {_f(fixed['latency_ms']['p90'])}, "
        f"p99 **{_f(fixed['latency_ms']['p99'])} ms**, max {_f(fixed['latency_ms']['max'])} "
        f"({fixed['accepted']:,}/{fixed['sent']:,} × 202) | {_cpu_line(fixed['cpu'])} |", "",
        f"Ratios: ours / raw = **{ours['rps'] / raw['rps']:.2f}**, ours / plain view = "
        f"**{ours['rps'] / plain['rps']:.2f}**"
        + (f", balance GET / plain view = **{r['balance']['rps'] / plain['rps']:.2f}**" if "balance" in r else "")
        + ". `max` is issue 17's \"accept on one hot source account, 16 clients\": every wrk connection posts "
        "from the same fresh source account, so each accept waits for that row's lock. "
        "Closed-loop latency of ours at max (wrk): "
        f"p50 {_f(ours['latency_ms_closed_loop'].get('p50'))} ms, "
        f"p99 {_f(ours['latency_ms_closed_loop'].get('p99'))} ms.",
        "",
        "### Accepted → completed (saga through the outbox relay and the core mock)", "",
        *_e2e_lines(e2e),
        *(["#### At the rate the relay sustained in this run (80 % of the 100/s run's completion throughput)", "",
           *_e2e_lines(r["e2e_sustained"])] if "e2e_sustained" in r else []),
        *(["#### Hot source account: one payer paying many payees (payroll)", "", *_e2e_lines(r["e2e_payroll"])]
          if "e2e_payroll" in r else []),
        *_work_lines(r),
        *_floor_lines(r),
        *_scaling_lines(r),
        *(["**Scenarios that failed in this run:** " + "; ".join(f"`{name}`: {error}" for name, error
                                                                in r["failed"].items()), ""]
          if r.get("failed") else []),
        "### Targets", "", "| target | measured | |", "| --- | --- | --- |",
        *(f"| {t['name']} | {t['value']} | {'PASS' if t['passed'] else '**MISS**'} |" for t in record["targets"]), "",
    ]
    for name, profile in record["profiles"].items():
        lines += [f"Profile `{name}` (py-spy, {profile.get('samples', 0)} samples, `{profile.get('file', '')}`): "
                  "inclusive " + ", ".join(f"`{k}` {v} %" for k, v in profile.get("inclusive_pct", {}).items())
                  + "; top own " + ", ".join(f"`{k}` {v} %" for k, v in profile.get("top_own_pct", {}).items()), ""]
    return "\n".join([*lines, END_MARK]).replace("not completed ms", "not completed")


def docs_update(markdown: str) -> None:
    text = DOCS_PATH.read_text()
    if BEGIN_MARK in text and END_MARK in text:
        before, rest = text.split(BEGIN_MARK, 1)
        text = before + markdown + rest.split(END_MARK, 1)[1]
    else:
        text = (text.rstrip("\n") + "\n\n## Transfers (bench/transfers.py)\n\nHow to run it and what exactly is "
                "measured: [bench/README.md](../bench/README.md#transfers-benchtransferspy).\n\n" + markdown + "\n")
    DOCS_PATH.write_text(text)
