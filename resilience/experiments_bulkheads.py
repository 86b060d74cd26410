"""E19: the same code deployed as one pool and as bulkheads (resilience/topology.py), each under three faults of
the account-opening module one after another: a CPU hog in its handler, a crash loop of the pool serving it, and
E5's application spike. Per route availability and p95 in each fault window against the same run's baseline
window (`phases` in the run's metrics, computed by `phase_metrics`).
"""
from __future__ import annotations

from typing import Any

from resilience import metrics as m
from resilience.criteria import CONSISTENCY, Criterion, Experiment, Step, Timing, Variant

# Seconds since the load started: [start, end) of each window. The baseline skips the first seconds (new
# processes open their database connections on their first requests); the gaps between faults let the stack
# settle so each window measures its own fault; the spike comes last because its provisioning backlog outlasts it.
PHASES_FULL: dict[str, Any] = {
    "baseline": (5, 40), "hog": (40, 90), "crash": (95, 145), "spike": (155, 180),
    "hog_ms": 2500, "crash_every_s": 12, "spike_rate": 20.0}
PHASES_QUICK: dict[str, Any] = {
    "baseline": (3, 10), "hog": (10, 18), "crash": (19, 29), "spike": (31, 36),
    "hog_ms": 2500, "crash_every_s": 8, "spike_rate": 20.0}
FAULTS = ("hog", "crash", "spike")
# The routes of the pools the faults do not touch in the bulkheads topology, and those of the account-opening pool.
OTHER_ROUTES = ("balance", "transactions", "transfer")
ACCOUNT_ROUTES = ("application", "confirm")
TOPOLOGY_VARIANTS = ("single", "bulkheads")
_AVAIL = 0.999
_P95_RATIO = 1.2


def phase_metrics(records: list[dict[str, Any]], *, t0: float, phases: dict[str, Any]) -> dict[str, Any]:
    """{window: {endpoint: {n, availability, p50, p95, max, codes, p95_ratio_vs_baseline}}} for the baseline
    and each fault window (pure: the request records of one run)."""
    windows = {name: phases[name] for name in ("baseline", *FAULTS)}
    stats = {name: m.window_stats(records, t0=t0, start_s=start, end_s=end) for name, (start, end) in windows.items()}
    for name in FAULTS:
        for endpoint, entry in stats[name].items():
            baseline_p95 = (stats["baseline"].get(endpoint) or {}).get("p95")
            entry["p95_ratio_vs_baseline"] = m.ratio(entry.get("p95"), baseline_p95)
    return stats


def _criteria() -> tuple[Criterion, ...]:
    isolation = tuple(
        criterion
        for fault in FAULTS for route in OTHER_ROUTES
        for criterion in (
            Criterion(f"bulkheads.phases.{fault}.{route}.availability", ">=", _AVAIL,
                      f"bulkheads, {fault}: {route} ≥ 99.9 % 2xx"),
            Criterion(f"bulkheads.phases.{fault}.{route}.p95_ratio_vs_baseline", "<=", _P95_RATIO,
                      f"bulkheads, {fault}: {route} p95 ≤ 1.2 × baseline", timing=True)))
    consistency = tuple(Criterion(f"{variant}.{criterion.metric}", criterion.op, criterion.target,
                                  f"{variant}: {criterion.label}")
                        for variant in TOPOLOGY_VARIANTS for criterion in CONSISTENCY)
    faults_hit = tuple(Criterion(f"{variant}.e19.crashes", ">=", 1, f"{variant}: the account-opening pool crashed")
                       for variant in TOPOLOGY_VARIANTS)
    return (*isolation, *faults_hit, *consistency)


E19 = Experiment(
    id="E19", title="Bulkheads by deployment alone: one pool vs per-module pools under account-opening faults",
    dimension="blast radius",
    hypothesis="Deployed as separate pools (same code), the routes of the other pools (balance, history, "
               "transfers) keep ≥ 99.9 % 2xx and p95 ≤ 1.2 × their baseline while the account-opening module has a "
               "CPU hog, a crash loop or a spike; deployed as one pool, the same faults degrade every route. What "
               "the pools still share (database, core queue, the 2 CPUs) is measured, not assumed away.",
    method="Two runs of W0, one per topology (resilience/topology.py), both behind HAProxy with the same capacity: "
           "`single` = one gunicorn pool (4 workers × 4 threads) for every route and one Celery worker for every "
           "queue (-c 6); `bulkheads` = the same config.wsgi in three gunicorn pools routed by path — read "
           "(balance, history, login and pages; 2 workers), transfers (1), accounts (account opening, approvals, "
           "registration and every staff/admin route; 1) — and one Celery worker group per queue: core (4), "
           "notify (1), default (1). Login and token verification go with the read pool because every customer "
           "needs them to see a balance (an onboarding fault must not lock customers out); the Django admin and "
           "the /v1/admin staff API go with account opening, the staff module, so staff tools never share workers "
           "with customers. Faults, one after another after a baseline window: a CPU hog in the account-opening "
           "handler (each POST /v1/api/accounts burns 2.5 s of CPU first; flag in resilience/fault_switches.py, "
           "harness settings only), a crash loop of the pool serving account opening (kill -9 of its process "
           "group, restarted at once by the harness, again 12 s after each kill: in `single` that pool is the "
           "only one), and E5's spike (+20 applications/s, each approved 2 s later; 25 s). HAProxy checks each "
           "pool's /healthz every second and takes it out after 3 failures (E4b's 0.5 s, 1-failure check would "
           "eject a busy single server and answer 503 for slowness). Per route availability and p95 per "
           "window against the same run's baseline window.",
    rollback="Hog flag off, crash loop ends with the pool restarted, spike load stops; the outbox drains.",
    original="Separate Lambdas per service: a CPU-bound or crashing account-opening function does not take "
             "balance or transfer functions with it (the seed's 'local blast radius'); DynamoDB and the core API "
             "stay shared.",
    full=Timing(duration_s=190, fault_start_s=PHASES_FULL["hog"][0], fault_end_s=PHASES_FULL["spike"][1],
                drain_wait_s=180),
    quick=Timing(duration_s=38, fault_start_s=PHASES_QUICK["hog"][0], fault_end_s=PHASES_QUICK["spike"][1],
                 drain_wait_s=45),
    load={"phases": PHASES_FULL, "phases_quick": PHASES_QUICK},
    steps=(Step("start", "e19_faults", {}),),
    variants=(Variant("single", {"topology": "single"}, "one web pool, one Celery worker for every queue"),
              Variant("bulkheads", {"topology": "bulkheads"},
                      "web pools read / transfers / accounts+staff, one Celery worker group per queue")),
    criteria=_criteria(),
)
EXPERIMENTS: tuple[Experiment, ...] = (E19,)
