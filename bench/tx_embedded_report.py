"""The report of `bench/transfers.py --embedded`: its targets, its markdown and its own generated section of
docs/performance.md, between its own markers (the PostgreSQL run's section is never touched)."""
from __future__ import annotations

from typing import Any

from bench.tx_report import DOCS_PATH, E2E_CUSTOMERS, TARGETS, WEB_THREADS, WEB_WORKERS, WRK_CONNECTIONS, backlog_flat
from bench.tx_report import _f as fmt

BEGIN_MARK = "<!-- bench/transfers.py --embedded: begin generated section (rewritten by every run) -->"
END_MARK = "<!-- bench/transfers.py --embedded: end generated section -->"
HEADING = "## Transfers on the embedded default (bench/transfers.py --embedded)"
STACK = ("web", "relay worker", "beat", "core mock")


def _cpu_line(cpu: dict[str, float]) -> str:
    """Cores used by the stack's groups; PostgreSQL and Redis are not part of this stack, so their CPU (other users
    of the machine) is shown as outside load with "not the bench"."""
    wall = max(cpu.get("wall_s", 0), 0.01)
    parts = [f"{label} {cpu[label] / wall:.2f}" for label in cpu
             if label not in ("machine_busy_pct", "wall_s", "postgres", "redis", "not the bench")
             and cpu[label] / wall >= 0.01]
    outside = sum(cpu.get(label, 0) for label in ("postgres", "redis", "not the bench")) / wall
    return ", ".join(parts) + f"; outside the bench {outside:.2f} (busy {cpu['machine_busy_pct']} %)"


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 17's targets that exist on the embedded default (ours / raw psycopg does not)."""
    rows = []
    if fixed := results.get("fixed"):
        p99 = fixed["latency_ms"]["p99"]
        rows.append({"name": "accept: p99 ≤ 20 ms at 50 % of max", "value": f"{fmt(p99)} ms",
                     "passed": p99 is not None and p99 <= TARGETS["accept_p99_ms"]})
    if e2e := results.get("e2e"):
        lat, backlog = e2e["db"]["latency_ms"], e2e["backlog"]
        rows += [
            {"name": "accepted → completed p50 ≤ 50 ms at 100/s", "value": f"{fmt(lat['p50'])} ms",
             "passed": lat["p50"] is not None and lat["p50"] <= TARGETS["e2e_p50_ms"]},
            {"name": "accepted → completed p99 ≤ 250 ms at 100/s", "value": f"{fmt(lat['p99'])} ms",
             "passed": lat["p99"] is not None and lat["p99"] <= TARGETS["e2e_p99_ms"]},
            {"name": "backlog flat at 100/s (2nd-half slope < 2 rows/s, max ≤ 200 open rows, all completed)",
             "value": f"slope {backlog['second_half_slope_per_s']}/s, max {backlog['during_max']}",
             "passed": backlog_flat(e2e)}]
    if (ours := results.get("max")) and (plain := results.get("plain")):
        p99 = ours["latency_ms_closed_loop"].get("p99")
        rows += [
            {"name": "accept on one hot source account, 16 clients: ours / plain view ≥ 0.20",
             "value": f"{ours['rps'] / plain['rps']:.2f}",
             "passed": ours["rps"] / plain["rps"] >= TARGETS["hot_accept_ratio_plain"]},
            {"name": "accept on one hot source account, 16 clients: p99 ≤ 100 ms (closed loop)",
             "value": f"{fmt(p99)} ms", "passed": p99 is not None and p99 <= TARGETS["hot_accept_p99_ms"]}]
        if balance := results.get("balance"):
            ratio = balance["rps"] / plain["rps"]
            rows.append({"name": "balance GET / plain view ≥ 0.40", "value": f"{ratio:.2f}",
                         "passed": ratio >= TARGETS["balance_ratio_plain"]})
    if run := results.get("e2e_payroll"):
        p99 = run["db"]["latency_ms"]["p99"]
        rows += [
            {"name": f"hot source account (payroll) e2e: backlog flat at {run['rate']:g}/s (goal ≥ 50/s)",
             "value": f"slope {run['backlog']['second_half_slope_per_s']}/s, max {run['backlog']['during_max']}",
             "passed": backlog_flat(run) and run["rate"] >= TARGETS["payroll_rate"]},
            {"name": "hot source account (payroll) e2e: accepted → completed p99 ≤ 250 ms",
             "value": f"{fmt(p99)} ms", "passed": p99 is not None and p99 <= TARGETS["e2e_p99_ms"]}]
    return rows


def _ring_row(name: str, run: dict[str, Any]) -> str:
    db, backlog, per = run["db"], run["backlog"], run["cpu_ms_per_completed_transfer"]
    cpu = ", ".join(f"{label} {per[label]:.1f}" for label in STACK if label in per)
    return (f"| {name} | {run['rate']:g}/s × {run['load']['send_seconds']:.0f} s | {db['accepted']:,} "
            f"({fmt(db['accepted_rate'])}/s) | {db['completed']:,} | **{fmt(db['latency_ms']['p50'])} ms** | "
            f"**{fmt(db['latency_ms']['p99'])} ms** | {backlog['during_max']:,} (core queue "
            f"{backlog.get('core_during_max', '–')}) / "
            f"{backlog['second_half_slope_per_s']}/s ({'flat' if backlog_flat(run) else 'not flat'}); drained "
            f"{backlog['drain_after_load_s']} s after | {fmt(run['load']['latency_ms']['p99'])} ms | {cpu}; "
            f"total **{per.get('total', 0):.1f} ms** |")


def _ring_lines(r: dict[str, Any]) -> list[str]:
    runs = [("ring, 100/s (the PostgreSQL run's rate)", r["e2e"])]
    runs += [(f"ring, step {index + 1} (80 % of the {'drain' if index == 0 and 'drain' in r else 'previous run'}"
              "'s completions/s)", run) for index, run in enumerate(r.get("e2e_steps", []))]
    if "e2e_payroll" in r:
        runs.append(("payroll: one payer, 50 payees in turn", r["e2e_payroll"]))
    lines = ["### Accepted → completed (saga through the one relay worker and the core mock)", "",
             f"Open loop from {E2E_CUSTOMERS} customers paying the next one (a ring), or one payer paying them in "
             "turn (payroll). Latency = `TransferCompleted.recorded_at − TransferRequested.recorded_at` (SQLite's "
             "`Now()`, millisecond precision). Backlog = open outbox rows of every queue sampled each second during "
             "the load (the flat rule's, as in the PostgreSQL run), and of the core queue alone (the transfers' legs; "
             "the rest are completion mails). CPU per completed transfer = core-ms of each group from the load's "
             "start until the backlog was drained, divided by the completed transfers (every transfer's work falls "
             "inside that window, kept up or not). A run offered more than the backlog drain's completions/s loads "
             "for at most 10 s: its backlog only grows, and longer would only lengthen its drain.", "",
             "| run | offered | accepted | completed | p50 | p99 | backlog max (core queue) / 2nd-half slope | "
             "accept p99 (client) | CPU ms per completed transfer |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [_ring_row(name, run) for name, run in runs]
    flat = [run["rate"] for _, run in runs if backlog_flat(run) and not run["payroll"]]
    lines += ["", ("Highest ring rate in this run whose backlog stayed flat: "
                   + (f"**{max(flat):g}/s**." if flat else "**none of the rates tried**.")), "",
              "Peak memory (PSS sum of each group, sampled every 0.5 s) and each process's peak RSS (VmHWM):", "",
              "| group | " + " | ".join(name.split(":")[0] for name, _ in runs) + " |",
              "| --- |" + " --- |" * len(runs)]
    for label in STACK:
        cells = []
        for _, run in runs:
            pss, rss = (run.get("peak_memory") or {}).get(label), (run.get("peak_rss_mib") or {}).get(label, [])
            cells.append((f"{pss['peak_mib']:,.0f} MiB ({pss['processes']} proc)" if pss else "–")
                         + (f"; RSS {', '.join(f'{v:,.0f}' for v in rss)} MiB" if rss else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _other_lines(r: dict[str, Any]) -> list[str]:
    lines = []
    sample = r.get("statements", {})
    if "per_transfer" in sample:
        legs = " + ".join(str(leg["statements"]) for leg in sample["legs"])
        lines += [f"Statements in the bank SQLite file of one transfer, counted in the benchmark process "
                  "(`CaptureQueriesContext`, as tests/transfers/services/test_statement_budget.py counts them; "
                  "SQLite's `BEGIN IMMEDIATE` is sent by the driver and is not in it): accept "
                  f"{sample['accept']} (+1 for the bearer token's session check in the web), legs {legs} (claim to "
                  f"settle, through `relay.drain`) = **{sample['per_transfer'] + 1}** per transfer.", ""]
    elif sample:
        lines += [f"Statements of one transfer: not counted ({sample.get('skipped')}).", ""]
    if drain := r.get("drain"):
        per = drain["cpu_ms_per_completed_transfer"]
        lines += ["### Backlog drain (one relay worker)", "",
                  f"{drain['accepted']:,} ring transfers accepted with no relay running, then the one relay worker "
                  f"(and beat) drained them: **{fmt(drain['rate'])} completed transfers/s** ({drain['completed']:,} "
                  f"completed over {drain['span_s']} s, {drain['left_open']} rows left open). CPU ms per completed "
                  "transfer: " + ", ".join(f"{k} {v}" for k, v in per.items() if k != "total")
                  + f"; total **{per.get('total', 0)} ms**. Cores used: {_cpu_line(drain['cpu'])}.", ""]
    lines += ["### Not applicable on the embedded default", "",
              *(f"- {what}: {why}." for what, why in r["not_applicable"].items()), ""]
    return lines


def render(record: dict[str, Any]) -> str:
    r, m, s = record["results"], record["machine"], record["stack"]
    ours, plain, fixed = r["max"], r["plain"], r["fixed"]
    options = s["database_options"]
    lines = [
        BEGIN_MARK, "",
        f"Run {record['started_at']} · commit `{record['commit']}` · {m['nproc']} × {m['cpu_model']}, "
        f"{m['ram_gib']} GiB RAM · Python {m['python']}, SQLite {s['sqlite']} · "
        f"{'quick' if record['quick'] else 'full'} run, {record['duration_s']} s.", "",
        f"Stack as `make run` starts it with no environment, in a fresh temporary var dir: two SQLite files "
        f"(`transaction_mode` {options.get('transaction_mode')}, `timeout` {options.get('timeout')} s, "
        f"`{options.get('init_command')}`), the filesystem broker (`{s['broker']}`, worker pool "
        f"`{s['worker_pool']}`), one relay worker `--queues core,notify,default --concurrency "
        f"{s['relay_concurrency']}`, one beat, web gunicorn gthread {WEB_WORKERS} × {WEB_THREADS}, core mock "
        f"gunicorn {s['core_mock']} on its own SQLite file. Settings `bench.settings_embedded` (production settings "
        "as in the PostgreSQL run: throttles off, `TRANSFER_DAILY_LIMIT` = 10¹² yen), no Idempotency-Key, 1 yen per "
        "transfer. CPU shares name the stack's groups; PostgreSQL and Redis belong to other users of this machine "
        "here and count as outside load.", "",
        "### Accept (`POST /v1/api/transfer` → 202), each beside the plain view of the same stack", "",
        "| what | load | result | CPU cores used (avg) |", "| --- | --- | --- | --- |",
        f"| **ours**: transfer route on one hot source account | wrk closed loop, {WRK_CONNECTIONS} conn, "
        f"{ours['seconds']:.0f} s | **{ours['rps']:,.0f} req/s** ({ours['ok']:,} × 202, {ours['non_2xx']} other); "
        f"p50 {fmt(ours['latency_ms_closed_loop'].get('p50'))} ms, p99 "
        f"**{fmt(ours['latency_ms_closed_loop'].get('p99'))} ms** | {_cpu_line(ours['cpu'])} |",
        f"| plain Django JSON view (`/bench/ping`, no DB) | wrk closed loop, {WRK_CONNECTIONS} conn, "
        f"{plain['seconds']:.0f} s | **{plain['rps']:,.0f} req/s**; p99 "
        f"{fmt(plain['latency_ms_closed_loop'].get('p99'))} ms | {_cpu_line(plain['cpu'])} |",
        *([f"| balance GET (`/v1/api/balance?accountId=`, bearer token) | wrk closed loop, {WRK_CONNECTIONS} conn, "
           f"{bal['seconds']:.0f} s | **{bal['rps']:,.0f} req/s** ({bal['non_2xx']} non-2xx); p99 "
           f"{fmt(bal['latency_ms_closed_loop'].get('p99'))} ms | {_cpu_line(bal['cpu'])} |"]
          if (bal := r.get("balance")) else []),
        f"| ours at 50 % of max | fixed rate {fixed['rate']:.0f}/s, {fixed['send_seconds']:.0f} s, open loop | "
        f"p50 **{fmt(fixed['latency_ms']['p50'])} ms**, p99 **{fmt(fixed['latency_ms']['p99'])} ms**, max "
        f"{fmt(fixed['latency_ms']['max'])} ({fixed['accepted']:,}/{fixed['sent']:,} × 202) | "
        f"{_cpu_line(fixed['cpu'])} |", "",
        f"Ratios: ours / plain view = **{ours['rps'] / plain['rps']:.2f}**"
        + (f", balance GET / plain view = **{r['balance']['rps'] / plain['rps']:.2f}**" if "balance" in r else "")
        + ".", "",
        *_ring_lines(r),
        *_other_lines(r),
        *(["**Scenarios that failed in this run:** " + "; ".join(f"`{name}`: {error}" for name, error
                                                                in r["failed"].items()), ""]
          if r.get("failed") else []),
        "### Targets (issue 17's, where they exist on SQLite)", "", "| target | measured | |", "| --- | --- | --- |",
        *(f"| {t['name']} | {t['value']} | {'PASS' if t['passed'] else '**MISS**'} |" for t in record["targets"]), "",
    ]
    return "\n".join([*lines, END_MARK]).replace("not completed ms", "not completed")


def docs_update(markdown: str) -> None:
    """Replace this run's section between its markers; the first time, append it under its own heading after
    everything else (the PostgreSQL section keeps its place and its markers)."""
    text = DOCS_PATH.read_text()
    if BEGIN_MARK in text and END_MARK in text:
        before, rest = text.split(BEGIN_MARK, 1)
        text = before + markdown + rest.split(END_MARK, 1)[1]
    else:
        text = (text.rstrip("\n") + f"\n\n{HEADING}\n\nHow to run it and what is measured: "
                "[bench/README.md](../bench/README.md#transfers-on-the-embedded-default-benchtransferspy---embedded)."
                "\n\n" + markdown + "\n")
    DOCS_PATH.write_text(text)

