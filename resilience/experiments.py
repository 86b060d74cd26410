"""The registry: every experiment of the comparison as data (resilience/criteria.py says what the fields mean).

The harness implements every step `action` named here (resilience/stack.py, fault_actions.py); metrics are
computed by resilience/analysis.py under the dotted names the criteria use.
"""
from __future__ import annotations

from resilience import experiments_bulkheads, experiments_change, experiments_scaling
from resilience.criteria import CONSISTENCY, ONE_MAIL, Criterion, Experiment, Step, Timing, Variant

_AVAIL = 0.999
_CORE_DOWN_ENDPOINTS = ("balance", "transactions", "transfer", "application", "confirm")

EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        id="E1", title="Core banking down for 30 s under W0", dimension="blast radius", in_quick=True,
        hypothesis="Balance, history, transfer requests, applications and approvals keep answering 2xx while core "
                   "is down (no request path calls core); the outbox holds the legs and drains after recovery "
                   "with nothing lost, doubled or mailed twice.",
        method="W0; core mock fault switch `down` (503 on every /api route and /core/health) for the fault window.",
        rollback="Fault switch `up`; the relay's backoff and the R18 health probe resume the legs.",
        original="400 \"source account not found\" on transfer requests (the pre-check calls core), 500 on balance, "
                 "and legs marked failed permanently after 3 attempts (~3 s); never retried, customer not told.",
        full=Timing(duration_s=300, fault_start_s=60, fault_end_s=90),
        quick=Timing(duration_s=55, fault_start_s=15, fault_end_s=30, drain_wait_s=60),
        steps=(Step("fault_start", "core_fault", {"mode": "down"}), Step("fault_end", "core_fault", {"mode": "up"})),
        criteria=(
            *(Criterion(f"endpoints.{name}.fault.availability", ">=", _AVAIL, f"{name} ≥ 99.9 % 2xx during the outage")
              for name in _CORE_DOWN_ENDPOINTS),
            *CONSISTENCY, ONE_MAIL,
            Criterion("outbox.drain_s", "<=", 10, "backlog back to baseline ≤ 10 s after recovery (R18)", timing=True),
        ),
    ),
    Experiment(
        id="E2", title="Core banking slow (5 s latency for 120 s)", dimension="blast radius",
        hypothesis="Balance p95 stays within 1.2 × baseline and no web worker saturates, because no request path "
                   "calls core; transfers slow down but none fails.",
        method="W0; core mock fault switch `slow` with latency_ms = 5000 on every route for the fault window.",
        rollback="Fault switch `up`.",
        original="Every balance request calls core synchronously: balance latency follows core's (+5 s), and API "
                 "Gateway's 29 s limit and Lambda concurrency are shared with transfers.",
        full=Timing(duration_s=240, fault_start_s=60, fault_end_s=180, drain_wait_s=180),
        quick=Timing(duration_s=60, fault_start_s=15, fault_end_s=40, drain_wait_s=90),
        steps=(Step("fault_start", "core_fault", {"mode": "slow", "latency_ms": 5000}),
               Step("fault_end", "core_fault", {"mode": "up"})),
        criteria=(
            Criterion("endpoints.balance.p95_ratio_fault_vs_baseline", "<=", 1.2, "balance p95 ≤ 1.2 × baseline",
                      timing=True),
            Criterion("endpoints.balance.fault.availability", ">=", _AVAIL, "balance ≥ 99.9 % 2xx"),
            Criterion("endpoints.transfer.fault.availability", ">=", _AVAIL, "transfer POST ≥ 99.9 % 2xx"),
            Criterion("transfers.failed_or_compensated", "==", 0, "no transfer fails or is compensated"),
            *CONSISTENCY,
        ),
    ),
    Experiment(
        id="E3", title="Bug in one component: the transfer-completed mail handler raises for 60 s",
        dimension="blast radius",
        hypothesis="Transfers complete at the baseline rate; the mail rows dead-letter; after the fix, replay sends "
                   "exactly one mail per completed transfer.",
        method="W0; a flag makes the `notify_transfer_completed` handler raise (resilience/fault_switches.py) for the "
               "fault window; after it, every dead-lettered mail row is replayed through "
               "POST /v1/admin/outbox/{id}/replay.",
        rollback="Flag off (the 'fix'), replay of the dead letters.",
        original="`TransferCompleted` publish or mail failure is swallowed: no mail, no retry, nobody told.",
        full=Timing(duration_s=200, fault_start_s=40, fault_end_s=100, drain_wait_s=120),
        quick=Timing(duration_s=60, fault_start_s=10, fault_end_s=30, drain_wait_s=60),
        steps=(Step("fault_start", "mail_bug", {"on": True}), Step("fault_end", "mail_bug", {"on": False}),
               Step("fault_end", "replay_dead_mail", {}, offset_s=5)),
        criteria=(
            Criterion("transfers.completed_rate_ratio_fault_vs_baseline", ">=", 0.8,
                      "transfers complete at ≥ 0.8 × the baseline rate during the bug", timing=True),
            Criterion("mails.dead_lettered_during_bug", ">", 0, "mail rows dead-lettered (the bug was hit)"),
            Criterion("mails.dead_left_after_replay", "==", 0, "no mail dead letter left after the replay"),
            ONE_MAIL, *CONSISTENCY,
        ),
    ),
    Experiment(
        id="E4", title="Process failures: core worker kill -9 loop, web master kill, database outage",
        dimension="blast radius",
        hypothesis="Killing the core worker loses and doubles nothing (recovery ≈ lease time). Killing the web "
                   "master or losing the database IS a whole-application outage (the seed's monolith case): "
                   "measured, not hidden. After recovery I1–I8 hold.",
        method="W0; kill -9 the `core` Celery worker (whole process group) every 20 s and restart it (supervisor); "
               "kill -9 the gunicorn master once and restart it; refuse all connections to the bank database for "
               "30 s (ALLOW_CONNECTIONS false + terminate its sessions: the shared PostgreSQL server itself is "
               "never stopped).",
        rollback="Restart the killed processes; allow connections again.",
        original="Per-function Lambdas: a crashed function instance is replaced by the platform; DynamoDB outage "
                 "would stop every function alike. Duplicate processing after a crash mid-batch double-debits "
                 "(flows.md §2.8).",
        full=Timing(duration_s=420, fault_start_s=30, fault_end_s=330, drain_wait_s=180),
        quick=Timing(duration_s=150, fault_start_s=10, fault_end_s=70, drain_wait_s=120),
        steps=(Step("fault_start", "kill_core_worker_every", {"interval_s": 20, "until": "fault_end"}),
               Step("fault_end", "web_master_kill", {}, offset_s=10),
               Step("fault_end", "db_block", {"seconds": 30}, offset_s=40)),
        criteria=(
            *CONSISTENCY, ONE_MAIL,
            Criterion("e4.worker_kills", ">=", 1, "core worker killed at least once"),
            Criterion("e4.web_restart_s", "<=", 30, "web back within 30 s of the master kill (supervisor)",
                      timing=True),
        ),
    ),
    Experiment(
        id="E4b", title="Process failure with two web instances behind a local proxy (HAProxy)",
        dimension="blast radius",
        hypothesis="With two web instances behind HAProxy (health check every 0.5 s), killing one instance costs "
                   "only the requests in flight on it: the error rate while it is down stays under 1 %.",
        method="W0 through HAProxy to two gunicorn instances (2 workers each); kill -9 one instance's whole process "
               "group, start it again 20 s later.",
        rollback="Restart the instance; the health check puts it back.",
        original="API Gateway in front of Lambda: a failed instance is replaced by the platform.",
        full=Timing(duration_s=120, fault_start_s=40, fault_end_s=70, drain_wait_s=120),
        quick=Timing(duration_s=60, fault_start_s=15, fault_end_s=40, drain_wait_s=90),
        variants=(Variant("run", {"proxy": True}, "HAProxy + 2 web instances"),),
        steps=(Step("fault_start", "web_instance_kill", {"down_s": 20}),),
        criteria=(
            Criterion("e4.instance_error_rate", "<=", 0.01, "error rate while one instance is down ≤ 1 %", timing=True),
            *CONSISTENCY,
        ),
    ),
    Experiment(
        id="E5", title="Campaign spike: +20 applications/s with approvals for 120 s", dimension="scalability",
        hypothesis="With R17 queues and a rate limit on POST /api/accounts (run B), balance p95 degrades ≤ 20 % and "
                   "transfer end-to-end p95 stays ≤ 2 × baseline; run A (one shared queue, no limits) shows the cost.",
        method="W0 plus a second Locust process at 20 applications/s, each approved 2 s later, for the fault window. "
               "Run A: one Celery worker for every queue, no write throttle. Run B: per-queue workers and a write "
               "throttle of 30/s per client address (429 above; the counters live in the Django cache that every "
               "web process shares, so the limit holds whatever the number of processes). Run C (added): the same "
               "with a limit sized for this 2-core box, 2/s.",
        rollback="Stop the spike load.",
        original="Separate Lambdas per service scale independently; the shared core API and DynamoDB are the "
                 "common resources.",
        full=Timing(duration_s=240, fault_start_s=60, fault_end_s=180, drain_wait_s=240),
        quick=Timing(duration_s=60, fault_start_s=15, fault_end_s=40, drain_wait_s=120),
        steps=(Step("fault_start", "spike", {"rate": 20.0}),),
        variants=(Variant("A", {"shared_queue": True, "throttle_write": ""}, "one shared queue, no rate limit"),
                  Variant("B", {"throttle_write": "1800/min"}, "R17 queues + 30/s write limit"),
                  Variant("C", {"throttle_write": "120/min"},
                          "R17 queues + a limit sized for this box: 2/s per client address")),
        criteria=(
            Criterion("B.endpoints.balance.p95_degradation_pct", "<=", 20, "run B: balance p95 degradation ≤ 20 %",
                      timing=True),
            Criterion("B.transfers.e2e_p95_ratio_fault_vs_baseline", "<=", 2.0,
                      "run B: transfer end-to-end p95 ≤ 2 × baseline", timing=True),
            Criterion("B.invariants.failed", "==", 0, "run B: every invariant holds"),
            Criterion("A.invariants.failed", "==", 0, "run A: every invariant holds"),
            Criterion("C.invariants.failed", "==", 0, "run C: every invariant holds"),
        ),
    ),
    Experiment(
        id="E18", title="Duplicate submission: every transfer POST and every confirm sent twice concurrently",
        dimension="consistency", in_quick=True,
        hypothesis="The same Idempotency-Key yields one transfer and the same answer; concurrent confirms give one "
                   "2xx and one 4xx, one create_account row and one core customer per application.",
        method="W0 with duplicates on: each transfer POST is sent twice at once with the same Idempotency-Key, "
               "each confirm twice at once.",
        rollback="None needed.",
        original="No idempotency key on POST /api/transfer: a retried request creates a second transfer; duplicate "
                 "bus events double-debit or double-credit (flows.md §2.8).",
        full=Timing(duration_s=120, fault_start_s=0, fault_end_s=120, drain_wait_s=120),
        quick=Timing(duration_s=35, fault_start_s=0, fault_end_s=35, drain_wait_s=60),
        load={"duplicates": True},
        criteria=(
            Criterion("duplicates.transfer_keys_with_two_transfers", "==", 0, "no key created two transfers"),
            Criterion("duplicates.transfer_pairs_different_answer", "==", 0, "both answers name the same transfer"),
            Criterion("duplicates.confirm_pairs_both_2xx", "==", 0, "no confirm pair answered 2xx twice"),
            Criterion("duplicates.applications_with_extra_create_rows", "==", 0, "one create_account row each"),
            Criterion("duplicates.extra_core_customers", "==", 0, "one core customer per completed application"),
            Criterion("duplicates.transfer_pairs", ">", 0, "duplicate pairs were sent"),
            *CONSISTENCY,
        ),
    ),
    Experiment(
        id="E9", title="Runtime coupling: the create_account consumer stopped under W0", dimension="coupling",
        hypothesis="With account provisioning stopped, balance, history and transfers stay at their baseline; "
                   "approved applications wait in CONFIRMED and complete once the consumer runs again.",
        method="W0; the `create_account` handler defers every claimed row (resilience/fault_switches.py: as if its "
               "consumer were stopped) for the fault window (5 minutes in the full run).",
        rollback="Consumer on again; the waiting rows drain.",
        original="The account-opening Lambdas are separate: transfers and balance are untouched (the "
                 "microservice case); here the same holds inside one process.",
        full=Timing(duration_s=420, fault_start_s=60, fault_end_s=360, drain_wait_s=180),
        quick=Timing(duration_s=60, fault_start_s=15, fault_end_s=45, drain_wait_s=90),
        steps=(Step("fault_start", "create_account_stop", {"on": True}),
               Step("fault_end", "create_account_stop", {"on": False})),
        criteria=(
            Criterion("endpoints.balance.p95_ratio_fault_vs_baseline", "<=", 1.2, "balance p95 ≤ 1.2 × baseline",
                      timing=True),
            Criterion("endpoints.transfer.fault.availability", ">=", _AVAIL, "transfer POST ≥ 99.9 % 2xx"),
            Criterion("endpoints.balance.fault.availability", ">=", _AVAIL, "balance ≥ 99.9 % 2xx"),
            Criterion("transfers.completed_rate_ratio_fault_vs_baseline", ">=", 0.8,
                      "transfers complete at ≥ 0.8 × the baseline rate", timing=True),
            Criterion("drain.left.applications_open", "==", 0, "every application completed after the restart"),
            *CONSISTENCY,
        ),
    ),
    Experiment(
        id="E11", title="Zero-downtime release under W0: graceful web reload and warm worker restarts",
        dimension="flexibility",
        hypothesis="A graceful gunicorn reload (SIGHUP) and warm Celery restarts (new worker first, then SIGTERM "
                   "to the old one) lose no request and duplicate no posting; in-flight outbox rows complete.",
        method="W0; SIGHUP the gunicorn master, warm-restart the core worker, then the notify worker, then SIGHUP "
               "again. No migration is shipped with this release (the additive-migration part is not run).",
        rollback="None needed.",
        original="Per-function deployments behind API Gateway (aliases/versions): no shared process to reload.",
        full=Timing(duration_s=240, fault_start_s=60, fault_end_s=180, drain_wait_s=120),
        quick=Timing(duration_s=60, fault_start_s=15, fault_end_s=45, drain_wait_s=90),
        steps=(Step("fault_start", "web_reload", {}),
               Step("fault_start", "worker_warm_restart", {"role": "core"}, offset_s=10),
               Step("fault_start", "worker_warm_restart", {"role": "notify"}, offset_s=20),
               Step("fault_end", "web_reload", {})),
        criteria=(
            *(Criterion(f"endpoints.{name}.all.availability", "==", 1.0, f"{name}: 0 failed requests")
              for name in ("balance", "transactions", "transfer", "application", "confirm")),
            *CONSISTENCY, ONE_MAIL,
        ),
    ),
    Experiment(
        id="E17", title="Chaos soak: transfers from 32 clients, flaky + blackhole core, FROZEN targets, worker kills",
        dimension="consistency",
        hypothesis="After the drain I1–I8 hold: every transfer completed, compensated, failed or rejected, nothing "
                   "in suspense, no doubled posting, money conserved.",
        method="32 Locust users posting transfers at 30/s in all (about 10,000 in the full run, no other load, write "
               "throttle off); core `flaky` 5 % errors plus 3 % `blackhole_after_apply`; every 30 s 2 other random "
               "accounts of the 100 are FROZEN in core (about 2 % of transfers meet one; the bank's read model learns "
               "the status only at its next core sync, so some are refused up front with 400 and the others are "
               "refused by core: compensated or failed); the core worker killed every 30 s.",
        rollback="Faults off, accounts ACTIVE again, worker restarted; wait for the drain.",
        original="Lost responses re-sent without idempotency double-debit; a deposit refused after the withdrawal "
                 "leaves the source debited with no compensation (flows.md §2.8).",
        full=Timing(duration_s=340, fault_start_s=0, fault_end_s=340, drain_wait_s=420),
        quick=Timing(duration_s=45, fault_start_s=0, fault_end_s=45, drain_wait_s=180),
        load={"rates": {"transfer": 30.0}, "users": {"transfer": 32}, "classes": ["TransferUser"]},
        variants=(Variant("run", {"throttle_write": ""}, "write throttle off"),),
        steps=(Step("start", "core_fault", {"mode": "flaky", "error_rate": 0.05, "blackhole_after_apply": 0.03}),
               Step("start", "freeze_rotate", {"interval_s": 30, "count": 2, "until": "fault_end"}),
               Step("start", "kill_core_worker_every", {"interval_s": 30, "until": "fault_end"}, offset_s=15)),
        criteria=(
            *CONSISTENCY,
            Criterion("transfers.by_phase.COMPENSATED", ">", 0, "deposits refused by core were compensated"),
        ),
    ),
    # --- static / consistency experiments: functions of another module, run without the stack --------------
    Experiment(
        id="E7", title="Static coupling: import-linter contracts and cross-app import edges", dimension="coupling",
        kind="static", call="resilience.static.coupling:e7_coupling",
        hypothesis="Apps import each other only through services/events modules; nothing imports corebanking_mock.",
        method="import-linter contracts; count of cross-app import edges.", rollback="None.",
        original="Separate repositories and Lambdas: no code coupling, coupling moves to events and HTTP contracts.",
        criteria=(Criterion("contracts_broken", "==", 0, "every import-linter contract kept"),),
    ),
    Experiment(
        id="E10", title="Test cost: full suite vs per-app suites vs a one-app change", dimension="flexibility",
        kind="static", call="resilience.static.suite_cost:e10_test_cost", call_kwargs={"quick": False},
        call_kwargs_quick={"quick": True},
        hypothesis="The full suite is fast enough to run on every change.", method="Wall time of pytest selections.",
        rollback="None.", original="Per-service suites; the full system needs a deployed environment.",
        criteria=(Criterion("full_suite_s", "<=", 600, "full suite ≤ 10 minutes", timing=True),
                  Criterion("failed", "==", 0, "no test failed in the timed runs")),
    ),
    Experiment(
        id="E13", title="Inventory of moving parts against the original", dimension="complexity", kind="static",
        call="resilience.static.inventory:e13_inventory",
        hypothesis="Fewer deployable units, resources and network hops; one writer of transfer state.",
        method="Count deployable units, infrastructure resources, hops and writers per transfer.", rollback="None.",
        original="About 18 functions + the core API function, 10 tables (3 in core), 2 queues + 2 DLQs, 1 bus with "
                 "5 rules, 3 stream mappings, 2 API gateways.",
        criteria=(Criterion("writers_of_transfer_state", "<=", 1, "one writer of transfer state"),),
    ),
    Experiment(
        id="E15", title="Code size: reliability machinery vs business code", dimension="complexity", kind="static",
        call="resilience.static.code_size:e15_code_size",
        hypothesis="The monolith still needs the external-leg machinery (outbox, idempotency, saga) but no "
                   "internal hops.", method="Lines of code per category.", rollback="None.",
        original="Outbox tables, stream processors and DLQ plumbing per service.",
        criteria=(Criterion("internal_hop_lines", "==", 0, "no code for internal service-to-service hops"),),
    ),
    Experiment(
        id="E16", title="Internal atomicity: aborts at random points inside command and result transactions",
        dimension="consistency", kind="static", call="resilience.atomicity.runner:e16_atomicity", in_quick=True,
        call_kwargs={"runs": 1000}, call_kwargs_quick={"runs": 100},
        hypothesis="0 events without their outbox row, 0 outbox rows without their event, 0 read-model drift.",
        method="Abort the process at random points inside the transactions; check afterwards.", rollback="None.",
        original="Item write and event publish are separate calls: a crash between them leaves the item stuck in "
                 "RECEIVED or the deposit never requested (flows.md §2.8).",
        criteria=(Criterion("events_without_outbox", "==", 0, "0 events without their outbox row"),
                  Criterion("outbox_without_event", "==", 0, "0 outbox rows without their event"),
                  Criterion("read_model_drift", "==", 0, "0 read-model drift")),
    ),
    *experiments_scaling.EXPERIMENTS,
    *experiments_change.EXPERIMENTS,
    *experiments_bulkheads.EXPERIMENTS,
)

EXPERIMENTS_BY_ID = {experiment.id: experiment for experiment in EXPERIMENTS}
PRIORITY = ("E1", "E2", "E3", "E4", "E4b", "E5", "E6", "E18", "E17", "E9", "E11", "E12", "E14", "E7", "E8", "E10",
            "E13", "E15", "E16", "E19")
QUICK = tuple(experiment.id for experiment in EXPERIMENTS if experiment.in_quick)


def experiments_select(codes: str | None, *, quick: bool) -> list[Experiment]:
    """The experiments named in `codes` (comma-separated), or the quick set / the priority set."""
    if codes:
        by_upper = {code.upper(): code for code in EXPERIMENTS_BY_ID}
        wanted = [code.strip().upper() for code in codes.split(",") if code.strip()]
        unknown = [code for code in wanted if code not in by_upper]
        if unknown:
            raise ValueError(f"unknown experiments: {', '.join(unknown)} (known: {', '.join(EXPERIMENTS_BY_ID)})")
        return [EXPERIMENTS_BY_ID[by_upper[code]] for code in wanted]
    return [EXPERIMENTS_BY_ID[code] for code in (QUICK if quick else PRIORITY)]
