"""E6 scaling on one box, the measurement (the stack of resilience/stack.py, already started and seeded).

Core curve: for each `core` worker concurrency n, a backlog of the same number of 1-yen transfers is accepted
through the transfer service with no `core` worker running (sources spread over W0's 100 accounts, each paying
the next customer's account), then one `core` worker with -c n drains it. Rate = completed transfers from the
worker's readiness to the last completion; CPU per process group from readiness until every transfer of the
backlog is terminal; pg_stat_activity of this run's databases sampled 5 times a second.

Web curve: for each web worker count w (gthread × WEB_THREADS, write throttle off), wrk in a closed loop (2
connections per request slot, as bench/transfers.py) posts transfers across the 100 accounts with no `core`
worker running, then GETs balances: ok answers/s and CPU per group of each window. Afterwards the web and the
`core` worker are back at the stack's sizes and the web curve's transfers are drained before the checks.

How the curves are judged (efficiency, where and why they flatten) is resilience/scaling.py's.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from resilience.cpu import CpuMeter
from resilience.scaling import THRESHOLDS, curve_summary, pg_activity_summary
from resilience.stack import BANK_DB, CORE_DB, WEB_THREADS, ComponentError, Stack, log
from resilience.wrk import wrk_parse, wrk_script_requests

CORE_CONCURRENCIES, CORE_CONCURRENCIES_QUICK = (1, 2, 4, 8, 16), (1, 2, 4)
WEB_WORKER_COUNTS, WEB_WORKER_COUNTS_QUICK = (2, 4, 8), (2, 4)
# 800 transfers = 16 claim batches of OUTBOX_BATCH_SIZE (50): enough for 16 processes to claim at once; the quick
# run's 200 are 4 batches, its largest concurrency.
BACKLOG, BACKLOG_QUICK = 800, 200
WEB_SECONDS, WEB_SECONDS_QUICK = 8.0, 3.0
DRAIN_TIMEOUT_S, DRAIN_TIMEOUT_S_QUICK = 240.0, 90.0
PG_SAMPLE_INTERVAL_S = 0.2

if TYPE_CHECKING:
    from resilience.load_run import Harness


class PgActivitySampler(threading.Thread):
    """pg_stat_activity of this run's two databases every PG_SAMPLE_INTERVAL_S on its own connection: backends
    active, active ones waiting on a heavyweight lock, an LWLock or I/O, and the waits by name (its own backend
    excluded)."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="e6-pg-activity")
        self.samples: list[dict[str, int]] = []
        self.events: Counter[str] = Counter()
        self._stop_event = threading.Event()

    def run(self) -> None:
        from django.db import connection

        query = ("SELECT count(*) FILTER (WHERE state = 'active'), "
                 "count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock'), "
                 "count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'LWLock'), "
                 "count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'IO') "
                 "FROM pg_stat_activity WHERE datname IN (%s, %s) AND pid <> pg_backend_pid()")
        events = ("SELECT wait_event_type || ':' || wait_event, count(*) FROM pg_stat_activity "
                  "WHERE datname IN (%s, %s) AND pid <> pg_backend_pid() AND state = 'active' "
                  "AND wait_event IS NOT NULL GROUP BY 1")
        try:
            while not self._stop_event.is_set():
                with connection.cursor() as cursor:
                    cursor.execute(query, [BANK_DB, CORE_DB])
                    active, lock, lwlock, io = cursor.fetchone()
                    cursor.execute(events, [BANK_DB, CORE_DB])
                    self.events.update(dict(cursor.fetchall()))
                self.samples.append({"active": active, "lock": lock, "lwlock": lwlock, "io": io})
                self._stop_event.wait(PG_SAMPLE_INTERVAL_S)
        finally:
            connection.close()

    def stop(self) -> dict[str, Any]:
        self._stop_event.set()
        self.join(10)
        return pg_activity_summary(self.samples, dict(self.events))


def _db_now() -> dt.datetime:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _ring(stack: Stack) -> list[tuple[str, str, str]]:
    """(login, source, target) over W0's 100 accounts: account k of customer i pays account k of customer i+1."""
    logins = sorted(stack.accounts)
    return [(login, stack.accounts[login][k], stack.accounts[logins[(i + 1) % len(logins)]][k])
            for k in range(len(stack.accounts[logins[0]])) for i, login in enumerate(logins)]


def backlog_create(stack: Stack, count: int) -> int:
    """`count` transfers of 1 yen accepted through the transfer service (as the API does, without HTTP)."""
    from django.contrib.auth import get_user_model

    from transfers.services.request import transfer_request

    ring = _ring(stack)
    users = {user.username: user for user in get_user_model().objects.filter(username__in=list(stack.accounts))}
    accepted = 0
    for index in range(count):
        login, source, target = ring[index % len(ring)]
        answer = transfer_request(user=users[login], idempotency_key=None, body={
            "sourceAccountId": source, "targetAccountId": target, "amount": 1, "description": "E6 backlog"})
        accepted += answer.status_code == 202
    return accepted


def _transfers_since(since: dt.datetime) -> dict[str, Any]:
    from django.db.models import Count, Max, Min

    from transfers.models import Transfer

    rows = Transfer.objects.filter(created_at__gte=since)
    completed = rows.filter(phase="COMPLETED").aggregate(n=Count("pk"), first=Min("updated_at"),
                                                         last=Max("updated_at"))
    return {"open": rows.filter(terminal=False).count(), "completed": completed["n"], "first": completed["first"],
            "last": completed["last"], "by_phase": dict(rows.values_list("phase").annotate(n=Count("pk")))}


def _groups(stack: Stack) -> dict[str, list[int]]:
    roots = {"web": [stack.web.pid] if stack.web else [], "core mock": [stack.core_mock.pid],
             "beat": [stack.beat.pid] if stack.beat else []}
    for role, child in stack.workers.items():
        roots["core workers" if role == "core" else f"{role} worker"] = [child.pid]
    return roots


def core_point(stack: Harness, *, concurrency: int, backlog: int, timeout_s: float) -> dict[str, Any]:
    """One point of the core curve: backlog, worker -c `concurrency`, drain, rate, CPU, lock waits."""
    from django.db import connection

    left_before = stack.settle(timeout_s=timeout_s)  # the previous point's mails
    since = _db_now()
    created_at = time.monotonic()
    accepted = backlog_create(stack, backlog)
    created_s = time.monotonic() - created_at
    worker = stack.worker_start("core", concurrency=concurrency)
    try:
        ready = _db_now()
        meter = CpuMeter(_groups(stack), own_databases=(BANK_DB, CORE_DB)).start()
        pg = PgActivitySampler()
        pg.start()
        deadline = time.monotonic() + timeout_s
        while (state := _transfers_since(since))["open"] and time.monotonic() < deadline:
            time.sleep(0.25)
        cpu = meter.stop()
        activity = pg.stop()
        state = _transfers_since(since)  # counted again: the loop's counts are from several statements
    finally:
        stack.procs.stop(worker)
        stack.workers.pop("core", None)
        connection.close()
    span = (state["last"] - ready).total_seconds() if state["completed"] else 0.0
    first_to_last = (state["last"] - state["first"]).total_seconds() if state["completed"] > 1 else 0.0
    point = {"n": concurrency, "accepted": accepted, "backlog_create_s": round(created_s, 1),
             "left_before": left_before, "completed": state["completed"], "units": state["completed"],
             "open_after": state["open"], "by_phase": state["by_phase"], "complete": state["open"] == 0,
             "rate": state["completed"] / span if span else None,
             "rate_first_to_last": (state["completed"] - 1) / first_to_last if first_to_last else None,
             "cpu": cpu, "pg": activity, "cores_saturated": cpu["machine_busy_pct"] >= THRESHOLDS["cpu_saturated_pct"]}
    log(f"   E6 core -c {concurrency}: {state['completed']} completed, {point['rate'] or 0:.1f}/s, busy "
        f"{cpu['machine_busy_pct']} %, lock waits {activity['lock_wait_share']}")
    return point


def _wrk(stack: Stack, name: str, *, script: Any, connections: int, seconds: float) -> dict[str, Any]:
    """wrk (closed loop, 1 thread) as a child of the run, so its CPU is the load generator's, not the stack's."""
    child = stack.procs.start(f"wrk-{name}", ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
                                              "--timeout", "10s", "-s", str(script), stack.web_url + "/"])
    meter = CpuMeter({**_groups(stack), "load generator (wrk)": [child.pid]},
                     own_databases=(BANK_DB, CORE_DB)).start()
    pg = PgActivitySampler()
    pg.start()
    try:
        child.popen.wait(timeout=seconds + 60)
    finally:
        cpu = meter.stop()
        activity = pg.stop()
        stack.procs.stop(child)
    return {**wrk_parse(child.log_path.read_text()), "connections": connections, "cpu": cpu, "pg": activity}


def web_point(stack: Harness, *, workers: int, seconds: float) -> dict[str, Any]:
    """One point of the web curve: web restarted with `workers`, transfer POSTs then balance GETs under wrk."""
    stack.procs.stop(stack.web)
    stack.web_start(workers=workers)
    tokens, ring = stack.tokens, _ring(stack)
    headers = {login: {"Authorization": f"Bearer {tokens[login]}", "Content-Type": "application/json"}
               for login in tokens}
    post = wrk_script_requests(stack.run_dir / "e6-post.lua", method="POST", url_path="/v1/api/transfer", entries=[
        {"headers": headers[login], "body": json.dumps({"sourceAccountId": source, "targetAccountId": target,
                                                        "amount": 1, "description": "E6 web"})}
        for login, source, target in ring])
    get = wrk_script_requests(stack.run_dir / "e6-get.lua", method="GET", url_path="", entries=[
        {"headers": headers[login], "path": f"/v1/api/balance?accountId={source}"} for login, source, _ in ring])
    connections = 2 * workers * WEB_THREADS
    transfer = _wrk(stack, f"post-w{workers}", script=post, connections=connections, seconds=seconds)
    balance = _wrk(stack, f"get-w{workers}", script=get, connections=connections, seconds=seconds)
    log(f"   E6 web {workers} workers: {transfer['rps']:.0f} accepts/s, {balance['rps']:.0f} balance GET/s, busy "
        f"{transfer['cpu']['machine_busy_pct']} / {balance['cpu']['machine_busy_pct']} %")
    return {"n": workers, "transfer": {**transfer, "units": transfer["ok"], "rate": transfer["rps"],
                                       "complete": transfer["requests"] > 0 and not transfer["socket_errors"]},
            "balance": {**balance, "units": balance["ok"], "rate": balance["rps"],
                        "complete": balance["requests"] > 0 and not balance["socket_errors"]}}


def scaling_run(stack: Harness, *, quick: bool) -> dict[str, Any]:
    """E6 on the running stack; returns a run record (variant "run", kind "scaling") for the harness."""
    from resilience.analysis import doubled_postings, transfer_rows
    from resilience.load_run import invariants_run

    concurrencies = CORE_CONCURRENCIES_QUICK if quick else CORE_CONCURRENCIES
    web_counts = WEB_WORKER_COUNTS_QUICK if quick else WEB_WORKER_COUNTS
    backlog = BACKLOG_QUICK if quick else BACKLOG
    seconds = WEB_SECONDS_QUICK if quick else WEB_SECONDS
    timeout_s = DRAIN_TIMEOUT_S_QUICK if quick else DRAIN_TIMEOUT_S
    if stack.stack_options:  # an earlier experiment's variant (HAProxy pair, shared queue, throttle): the plain stack
        log(f"   restarting web and workers without {stack.stack_options} for E6")
        stack.stack_stop_app()
        stack.stack_start({})
    started = _db_now()
    wall = time.monotonic()
    options = dict(stack.stack_options)
    core_points, web_points, error = [], [], ""
    if "core" in stack.workers:
        stack.procs.stop(stack.workers.pop("core"))
    try:
        for concurrency in concurrencies:
            core_points.append(core_point(stack, concurrency=concurrency, backlog=backlog, timeout_s=timeout_s))
            if not core_points[-1]["complete"]:  # its leftovers would join the next backlog: the curve stops here
                log(f"!! E6: the backlog was not drained within {timeout_s:g} s at -c {concurrency}")
                break
        stack.stack_options = {**options, "throttle_write": ""}  # the curve measures the web, not the throttle
        for workers in web_counts:
            web_points.append(web_point(stack, workers=workers, seconds=seconds))
    except (ComponentError, RuntimeError, TimeoutError) as exc:
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        log(f"!! E6: {error}")
    finally:
        stack.stack_options = options
        if web_points or stack.web is None or stack.web.popen.poll() is not None:  # back to the stack's size
            if stack.web is not None:
                stack.procs.stop(stack.web)
            stack.web_start()
        if "core" not in stack.workers:
            stack.worker_start("core")
    left = stack.settle(timeout_s=timeout_s)
    rows = transfer_rows(since=started)
    transfers = {"received": len(rows), "lost": sum(1 for row in rows if not row["terminal"]),
                 "failed_or_compensated": sum(1 for row in rows if row["phase"] in ("FAILED", "COMPENSATED")),
                 "doubled": doubled_postings(transaction_ids=[row["transaction_id"] for row in rows])}
    metrics = {"e6": {"core": curve_summary(core_points, planned=concurrencies),
                      "web": curve_summary([{**point["transfer"], "n": point["n"]} for point in web_points],
                                           planned=web_counts),
                      "web_balance": curve_summary([{**point["balance"], "n": point["n"]} for point in web_points],
                                                   planned=web_counts),
                      "backlog": backlog, "web_seconds": seconds, "web_threads": WEB_THREADS, "thresholds": THRESHOLDS,
                      "seconds": round(time.monotonic() - wall, 1)},
               "transfers": transfers, "drain": {"left": left}, "invariants": invariants_run(stack.env)}
    return {"variant": "run", "variant_note": "", "kind": "scaling", "stack": {}, "metrics": metrics,
            "core_points": core_points, "web_points": web_points, "actions": [], "error": error}
