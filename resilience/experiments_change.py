"""Registry entries of the change and debuggability experiments (the coupling, flexibility and complexity
dimensions): E8 replacing the core adapter, E12 changing one template under load, E14 debugging injected
failures from the timeline and the logs. resilience/experiments.py lists them with the others."""
from __future__ import annotations

from resilience.criteria import Criterion, Experiment

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

EXPERIMENTS = (E8,)
