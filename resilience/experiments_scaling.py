"""Registry entry of E6, scaling on one box (the scalability dimension): the curves of completed transfers/s over
`core` worker concurrency and of accepts/s over web workers, and where and why each flattens. The measurement is
resilience/scaling_run.py, the judgement resilience/scaling.py; resilience/experiments.py lists it with the others.
"""
from __future__ import annotations

from resilience.criteria import Criterion, Experiment
from resilience.scaling import (
    CORE_MOCK_SHARE_MIN,
    CPU_SATURATED_PCT,
    DB_WAIT_SHARE_MIN,
    FLAT_GAIN_MIN,
    LOCK_WAIT_SHARE_MIN,
    OTHER_LOAD_SHARE_MIN,
)
from resilience.scaling_run import BACKLOG, BACKLOG_QUICK, WEB_SECONDS, WEB_SECONDS_QUICK

E6 = Experiment(
    id="E6", title="Scaling on one box: core worker concurrency 1–16, web workers 2–8", dimension="scalability",
    kind="scaling",
    hypothesis="Completed transfers/s grow with `core` worker concurrency until a shared resource saturates; on "
               "a 2-core box that is the CPU (shared by the relay, the core mock and PostgreSQL), not database "
               "locks. Scaling only the `core` queue's workers (the hot service) raises the transfer rate without "
               "touching the web; web workers beyond the cores add little.",
    method=f"Core curve: for each concurrency 1, 2, 4, 8, 16 (quick: 1, 2, 4), {BACKLOG:,} transfers of 1 yen "
           f"({BACKLOG_QUICK} in quick mode) accepted through the transfer service with no `core` worker, then one "
           "`core` worker with -c n drains them: completed/s from its readiness to the last completion, CPU per "
           "process group from /proc (PostgreSQL split into this run's databases and the rest of the shared "
           "server), pg_stat_activity sampled 5×/s. Web curve: gunicorn with 2, 4, 8 gthread workers (quick: 2, 4), "
           f"write throttle off, wrk closed loop (2 connections per request slot) for {WEB_SECONDS:g} s "
           f"({WEB_SECONDS_QUICK:g} s quick) of transfer POSTs then of balance GETs, no `core` worker running. "
           f"A curve is flat where doubling the processes adds < {100 * (FLAT_GAIN_MIN - 1):.0f} % throughput; the "
           f"cause at that point, in order: machine busy ≥ {CPU_SATURATED_PCT:g} % with processes not of this run "
           f"≥ {100 * OTHER_LOAD_SHARE_MIN:.0f} % of it → the shared machine; busy ≥ {CPU_SATURATED_PCT:g} % with "
           f"the core mock ≥ {100 * CORE_MOCK_SHARE_MIN:.0f} % of this run's CPU → core mock; busy ≥ "
           f"{CPU_SATURATED_PCT:g} % → CPU; ≥ {100 * LOCK_WAIT_SHARE_MIN:.0f} % of active backends waiting on a "
           f"lock → database locks; ≥ {100 * DB_WAIT_SHARE_MIN:.0f} % waiting on an LWLock or I/O → database "
           "LWLock/IO waits; else unidentified (resilience/scaling.py).",
    rollback="The web and the `core` worker are restarted at the stack's sizes; the web curve's transfers drain.",
    original="Lambda concurrency scales each function on its own (up to the account's limits); the core API and "
             "DynamoDB are shared by all of them, so the flattening moves there.",
    criteria=(
        Criterion("e6.core.all_points_measured", "==", 1,
                  "completed transfers/s measured at every core concurrency (each backlog drained)"),
        Criterion("e6.web.all_points_measured", "==", 1, "transfer accepts/s measured at every web worker count"),
        Criterion("e6.core.cause_identified", "==", 1,
                  "where the core curve flattens, and a cause inside the stack, identified from the measurements"),
        Criterion("e6.web.cause_identified", "==", 1,
                  "where the web curve flattens, and a cause inside the stack, identified from the measurements"),
        Criterion("e6.core.undisturbed", "==", 1, f"core curve: processes not of this run < "
                  f"{100 * OTHER_LOAD_SHARE_MIN:.0f} % of the busy CPU at every point (else the curve is theirs)"),
        Criterion("e6.web.undisturbed", "==", 1, f"web curve: processes not of this run < "
                  f"{100 * OTHER_LOAD_SHARE_MIN:.0f} % of the busy CPU at every point"),
        Criterion("transfers.lost", "==", 0, "every transfer of the run terminal after the drain"),
        Criterion("transfers.failed_or_compensated", "==", 0, "no transfer failed or compensated (no fault injected)"),
        Criterion("transfers.doubled", "==", 0, "doubled core postings (I3) = 0"),
        Criterion("invariants.failed", "==", 0, "check_invariants: every invariant holds"),
    ),
)

EXPERIMENTS = (E6,)
