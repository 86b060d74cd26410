
"""E19 (resilience/experiments_bulkheads.py, report_bulkheads.py): per-window route metrics, criteria evaluation
and the side-by-side report, from recorded request logs and a recorded result (pure: no stack)."""
import copy

import pytest

from resilience import experiments as registry
from resilience import report
from resilience.criteria import criteria_evaluate, verdict
from resilience.experiments_bulkheads import E19, PHASES_QUICK, phase_metrics

T0 = 1_000.0


def _requests(endpoint: str, *, start_s: float, end_s: float, ms: float, status: int = 200, per_s: int = 4):
    return [{"t": T0 + start_s + index / per_s, "e": endpoint, "s": status, "ms": ms}
            for index in range(int((end_s - start_s) * per_s))]


def _run_records(*, coupled: bool) -> list[dict]:
    """A run of the quick phases: 20 ms balance at baseline; in the fault windows either unchanged (isolated) or
    slow and failing (coupled); account opening fails during the crash loop in both."""
    phases = PHASES_QUICK
    records = []
    for route in ("balance", "transactions", "transfer"):
        records += _requests(route, start_s=0, end_s=phases["baseline"][1], ms=20)
        for fault in ("hog", "crash", "spike"):
            start, end = phases[fault]
            records += _requests(route, start_s=start, end_s=end, ms=90 if coupled else 21,
                                 status=503 if coupled and fault == "crash" else 200)
    records += _requests("application", start_s=0, end_s=phases["baseline"][1], ms=50, per_s=1)
    records += _requests("application", start_s=phases["crash"][0], end_s=phases["crash"][1], ms=2, status=503,
                         per_s=1)
    return records


def _metrics(*, coupled: bool, crashes: int = 2) -> dict:
    return {"phases": phase_metrics(_run_records(coupled=coupled), t0=T0, phases=PHASES_QUICK),
            "transfers": {"lost": 0, "doubled": 0}, "money": {"conservation_delta": 0},
            "invariants": {"failed": 0, "failing": []},
            "e19": {"crashes": crashes, "crash_restarts": [{"t": 31.0, "down_s": 3.2}] * crashes}}


def test_phase_metrics_compare_each_fault_window_with_the_runs_own_baseline():
    # when
    phases = phase_metrics(_run_records(coupled=True), t0=T0, phases=PHASES_QUICK)
    # then
    assert phases["baseline"]["balance"]["p95"] == 20
    assert phases["hog"]["balance"]["p95_ratio_vs_baseline"] == 4.5
    assert phases["crash"]["balance"]["availability"] == 0.0
    assert phases["crash"]["application"]["codes"] == {"503": PHASES_QUICK["crash"][1] - PHASES_QUICK["crash"][0]}
    assert "p95_ratio_vs_baseline" not in phases["baseline"]["balance"]


def test_isolated_bulkheads_pass_and_a_coupled_one_fails_with_the_measured_values():
    # given a one-pool run that is coupled in both cases
    single = _metrics(coupled=True)
    # when the bulkheads run kept the other routes at their baseline
    isolated = criteria_evaluate(E19.criteria, {"single": single, "bulkheads": _metrics(coupled=False)})
    # and when it did not
    coupled = criteria_evaluate(E19.criteria, {"single": single, "bulkheads": _metrics(coupled=True)})
    # then
    assert verdict(isolated) == "PASS"
    assert verdict(coupled) == "FAIL"
    failed = {result["label"]: result["value"] for result in coupled if not result["passed"]}
    assert failed["bulkheads, crash: balance ≥ 99.9 % 2xx"] == 0.0
    assert failed["bulkheads, hog: transfer p95 ≤ 1.2 × baseline"] == 4.5
    # the single pool's degradation is reported, never a criterion of its own (it is the comparison)
    assert not any(result["metric"].startswith("single.phases") for result in coupled)


def test_a_crash_loop_that_never_crashed_fails_the_control():
    results = criteria_evaluate(E19.criteria, {"single": _metrics(coupled=True, crashes=0),
                                               "bulkheads": _metrics(coupled=False)})
    assert [result["label"] for result in results if not result["passed"]] == \
        ["single: the account-opening pool crashed"]


def test_e19_is_registered_outside_the_ci_quick_set_with_both_topologies():
    assert "E19" in registry.EXPERIMENTS_BY_ID and "E19" not in registry.QUICK
    assert [variant.stack for variant in E19.variants] == [{"topology": "single"}, {"topology": "bulkheads"}]
    assert E19.load["phases_quick"]["spike"][1] <= E19.quick.duration_s
    assert E19.load["phases"]["spike"][1] <= E19.full.duration_s


def _recorded_result() -> dict:
    metrics = {"single": _metrics(coupled=True), "bulkheads": _metrics(coupled=False)}
    criteria = criteria_evaluate(E19.criteria, metrics)
    runs = [{"variant": name, "variant_note": "", "stack": {"topology": name}, "rates": {"balance": 10.0},
             "timing": {"duration_s": 56, "fault_start_s": 14, "fault_end_s": 52, "drain_wait_s": 60},
             "metrics": metrics[name], "actions": [], "series": {}, "samples": []} for name in metrics]
    return {"id": "E19", "title": E19.title, "dimension": E19.dimension, "kind": "load",
            "hypothesis": E19.hypothesis, "method": E19.method, "rollback": E19.rollback, "original": E19.original,
            "criteria": criteria, "verdict": verdict(criteria), "metrics": metrics, "runs": runs, "notes": [],
            "error": ""}


def _recorded_run() -> dict:
    return {"started_at": "2026-12-03T16:00:00+00:00", "quick": True, "duration_s": 170, "commit": "abc1234",
            "machine": {"nproc": 2}, "stack": {}, "experiments": [_recorded_result()], "_file": "r.json"}


def test_report_renders_the_side_by_side_table_with_the_seeds_claim_and_what_is_shared():
    # given a recorded E19 result
    # when the report is rendered (charts are another test: matplotlib is installed by the harness on demand)
    markdown = report.render([_recorded_run()], make_charts=False)
    # then the verdict row and the side-by-side rows (one pool vs bulkheads) are there
    assert "| E19 | Bulkheads by deployment alone" in markdown and "| PASS (quick) |" in markdown
    assert ("| CPU hog in the account-opening handler | balance | 100.00 %, p95 20 ms | 100.00 % of 32, p95 90 ms "
            "(4.50×) | 100.00 %, p95 20 ms | 100.00 % of 32, p95 21 ms (1.05×) | local: a slow service does not "
            "slow the others |") in markdown
    assert "|  | application | 100.00 %, p95 50 ms | 0.00 % of 10, p95 2 ms (0.04×) |" in markdown
    assert "one PostgreSQL database" in markdown
    assert "single pool killed 2×, back after 3.2, 3.2 s" in markdown
    assert "single: hog 100.00 % / 4.50×" in markdown


def test_report_draws_the_side_by_side_chart(tmp_path):
    pytest.importorskip("matplotlib")
    # given a recorded E19 result, when the report is rendered with charts
    markdown = report.render([_recorded_run()], charts_dir=tmp_path, make_charts=True)
    # then the chart is drawn and linked
    assert "![E19 side by side](resilience/E19-side-by-side.png)" in markdown
    assert (tmp_path / "E19-side-by-side.png").stat().st_size > 0


def test_report_of_a_not_run_e19_has_no_table():
    result = copy.deepcopy(_recorded_result())
    result.update(verdict="NOT RUN: could not start HAProxy", metrics={}, runs=[], criteria=[])
    record = {"started_at": "x", "quick": False, "experiments": [result], "_file": "r.json"}
    markdown = report.render([record], make_charts=False)
    assert "| E19 | Bulkheads by deployment alone" in markdown and "Side by side" not in markdown


def test_the_harness_implements_every_step_the_registry_names_and_both_topologies():
    from resilience.load_run import Harness

    missing = [(experiment.id, step.action) for experiment in registry.EXPERIMENTS for step in experiment.steps
               if not callable(getattr(Harness, step.action, None))]
    assert missing == []
    # E19's topology switch overrides the stack's start and stop (the standard stack stays the default)
    assert Harness.stack_start.__qualname__ == "TopologyActions.stack_start"
    assert Harness.stack_stop_app.__qualname__ == "TopologyActions.stack_stop_app"
