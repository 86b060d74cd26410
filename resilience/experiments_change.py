"""Registry entries of the change and debuggability experiments (the coupling, flexibility and complexity
dimensions): E8 replacing the core adapter, E12 changing one template under load, E14 debugging injected
failures from the timeline and the logs. resilience/experiments.py lists them with the others."""
from __future__ import annotations

from resilience.criteria import CONSISTENCY, ONE_MAIL, Criterion, Experiment, Step, Timing

W0_ENDPOINTS = ("balance", "transactions", "transfer", "application", "confirm")

E8 = Experiment(
    id="E8", title="Replaceability: the core adapter swapped for a v2 core with renamed fields", dimension="coupling",
    kind="static", call="resilience.static.replaceability:e8_replaceability", call_kwargs={"quick": False},
    call_kwargs_quick={"quick": True},
    hypothesis="Moving to a core whose JSON fields are renamed changes one adapter module and nothing else; the "
               "bank's unchanged tests pass against the new core.",
    method="git: the files of the commit that added the v2 codec; a scan of the product for references to it; "
           "the contract tests that reach the core over HTTP, run unchanged against v1 (v1 codec), v2 (v2 codec) "
           "and a control (v2 core, v1 codec).",
    rollback="None (settings of the test subprocesses only).",
    original="Each Lambda calls the core API with its own request code (account-opening, transfer pre-check, "
             "withdraw and deposit workers): renamed fields touch every one of them.",
    criteria=(
        Criterion("e8.files_outside_adapter", "==", 0, "the swap changes no file outside outbox/core_banking/"),
        Criterion("e8.test_files_changed", "==", 0, "the swap changes no test"),
        Criterion("e8.outside_references", "==", 0, "no product module outside the adapter names the v2 codec"),
        Criterion("e8.v2_failed", "==", 0, "the unchanged tests pass against the v2 core"),
        Criterion("e8.v2_minus_v1_passed", "==", 0, "as many tests pass against v2 as against v1"),
        Criterion("e8.control_failed", ">", 0, "the tests catch a wrong adapter (v2 core, v1 codec)"),
    ),
)

E12 = Experiment(
    id="E12", title="Change isolation: only the transfer mail template changes, rolled out under W0",
    dimension="flexibility",
    hypothesis="A release that changes one mail template needs only the notify workers restarted (warmly): no "
               "request fails, no transfer is interrupted, and the mails after the rollout use the new template.",
    method="W0; at the fault start the harness builds the release (a copy of this code with one line added to "
           "templates/transfers/mail/completed.body.txt), starts a notify worker from it and SIGTERMs the old one "
           "(it finishes its tasks). Web, the core worker and beat are not touched. After the drain the notify "
           "worker is rolled back the same way.",
    rollback="Warm restart of the notify worker from this code.",
    original="Mail is sent by its own Lambda: a template change redeploys that function only.",
    full=Timing(duration_s=180, fault_start_s=60, fault_end_s=120, drain_wait_s=120),
    quick=Timing(duration_s=60, fault_start_s=20, fault_end_s=40, drain_wait_s=90),
    steps=(Step("fault_start", "template_release", {"role": "notify"}),),
    criteria=(
        *(Criterion(f"endpoints.{name}.all.availability", "==", 1.0, f"{name}: 0 failed requests")
          for name in W0_ENDPOINTS),
        Criterion("transfers.failed_or_compensated", "==", 0, "no transfer interrupted (failed or compensated)"),
        *CONSISTENCY, ONE_MAIL,
        Criterion("e12.release_file_count", "==", 1, "the release differs from the running code in one file"),
        Criterion("e12.released_template_mails", ">", 0, "mails after the rollout use the new template"),
    ),
)

E14 = Experiment(
    id="E14", title="Debuggability: injected failures explained from the transfer timeline and one log stream",
    dimension="complexity",
    hypothesis="For every injected failure, the staff timeline of the transfer and the bank's JSON log lines "
               "filtered by its transaction id are enough to tell where the money is and why.",
    method="Light W0; at the fault start the harness sends transfers of its own and injects one kind of failure "
           "into each batch, kinds in random order: a frozen source (core refuses the withdrawal), a frozen target "
           "(core refuses the deposit: compensation), a lost core answer (blackhole_after_apply for 6 s), a kill -9 "
           "of the core worker while the legs are in flight (core slowed to 4 s), and the mail handler raising; a "
           "batch settles before the next kind starts, so each probe meets only its own failure. "
           "After the drain resilience/debug_probes.py:diagnose reads only GET /v1/admin/transfer-events/{id} and "
           "the log lines with that transaction_id; the truth is what was injected and the core's postings. 20 "
           "transfers in the full run (4 per kind), 5 in the quick run.",
    rollback="Accounts thawed, faults and the mail bug off (the drain settles every transfer).",
    original="One transfer's story is spread over 6 functions' CloudWatch log groups, the bus and 3 tables: no "
             "single timeline.",
    full=Timing(duration_s=150, fault_start_s=10, fault_end_s=120, drain_wait_s=180),
    quick=Timing(duration_s=90, fault_start_s=5, fault_end_s=60, drain_wait_s=150),
    load={"rates": {"balance": 5.0, "transactions": 1.0, "transfer": 1.0, "application": 0.2}},
    steps=(Step("fault_start", "debug_probes", {}),),
    criteria=(
        Criterion("e14.missing", "==", 0, "every planned failure was injected"),
        Criterion("e14.undetermined", "==", 0, "money state and cause found from the timeline and the log alone"),
        *CONSISTENCY,
    ),
)

EXPERIMENTS = (E8, E12, E14)
