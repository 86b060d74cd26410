"""resilience/experiments.py: the registry as data and the PASS/FAIL evaluation of its criteria."""
import pytest

from resilience import experiments as registry
from resilience.experiments import Criterion


def test_criterion_passes_when_the_measured_value_meets_the_target():
    # given
    metrics = {"endpoints": {"balance": {"fault": {"availability": 0.9995}}}}
    # when
    result = registry.criterion_evaluate(Criterion("endpoints.balance.fault.availability", ">=", 0.999), metrics)
    # then
    assert result["passed"] is True
    assert result["value"] == 0.9995


def test_criterion_fails_when_the_value_misses_the_target():
    # when
    result = registry.criterion_evaluate(Criterion("transfers.lost", "==", 0), {"transfers": {"lost": 3}})
    # then
    assert result["passed"] is False
    assert result["value"] == 3


def test_criterion_fails_as_not_measured_when_the_metric_is_missing():
    # when
    result = registry.criterion_evaluate(Criterion("outbox.drain_s", "<=", 10), {"outbox": {"drain_s": None}})
    # then
    assert result == {"label": "outbox.drain_s <= 10", "metric": "outbox.drain_s", "op": "<=", "target": 10,
                      "value": None, "passed": False, "timing": False}


def test_quick_gate_ignores_failed_timing_targets_but_not_correctness_criteria():
    # given
    drain = {"passed": False, "timing": True}
    lost = {"passed": False, "timing": False}
    ok = {"passed": True, "timing": False}
    # then
    assert registry.gate_failed([drain, ok], quick=True) is False
    assert registry.gate_failed([drain, ok], quick=False) is True
    assert registry.gate_failed([lost, ok], quick=True) is True


def test_e1_drain_target_is_a_timing_target_and_lost_is_not():
    criteria = {criterion.metric: criterion for criterion in registry.EXPERIMENTS_BY_ID["E1"].criteria}
    assert criteria["outbox.drain_s"].timing is True
    assert criteria["transfers.lost"].timing is False


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError):
        Criterion("x", "=~", 1)


def test_verdict_is_pass_only_when_every_criterion_passed_and_not_run_on_error():
    # given
    passed, failed = {"passed": True}, {"passed": False}
    # then
    assert registry.verdict([passed, passed]) == "PASS"
    assert registry.verdict([passed, failed]) == "FAIL"
    assert registry.verdict([], error="resilience.static unavailable") == \
        "NOT RUN: resilience.static unavailable"


def test_e1_criteria_cover_every_endpoint_and_the_consistency_checks_of_the_spec():
    # given
    e1 = registry.EXPERIMENTS_BY_ID["E1"]
    metrics = {criterion.metric for criterion in e1.criteria}
    # then
    assert {f"endpoints.{name}.fault.availability"
            for name in ("balance", "transactions", "transfer", "application", "confirm")} <= metrics
    assert {"transfers.lost", "transfers.doubled", "money.conservation_delta", "invariants.failed",
            "mails.completed_without_exactly_one", "outbox.drain_s"} <= metrics
    assert (e1.full.fault_start_s, e1.full.fault_end_s, e1.full.duration_s) == (60, 90, 300)


def test_registry_lists_the_static_experiments_with_their_functions_and_quick_set():
    # then
    calls = {code: registry.EXPERIMENTS_BY_ID[code].call for code in ("E7", "E10", "E13", "E15", "E16")}
    assert calls == {"E7": "resilience.static:e7_coupling", "E10": "resilience.static:e10_test_cost",
                     "E13": "resilience.static:e13_inventory", "E15": "resilience.static:e15_code_size",
                     "E16": "resilience.atomicity:e16_atomicity"}
    assert registry.EXPERIMENTS_BY_ID["E16"].call_kwargs_quick == {"runs": 100}
    assert registry.QUICK == ("E1", "E18", "E16")


def test_select_refuses_unknown_ids_and_defaults_to_the_quick_set():
    with pytest.raises(ValueError, match="E99"):
        registry.experiments_select("E1,E99", quick=False)
    assert [experiment.id for experiment in registry.experiments_select(None, quick=True)] == list(registry.QUICK)
    assert [experiment.id for experiment in registry.experiments_select("e2, E1, e4b", quick=False)] == \
        ["E2", "E1", "E4b"]


def test_static_experiment_is_not_run_with_the_reason_when_its_module_is_missing(tmp_path):
    # given
    from resilience.experiments import Experiment
    from resilience.harness import experiment_result, static_run

    experiment = Experiment(id="EX", title="x", dimension="coupling", kind="static", hypothesis="", method="",
                            rollback="", criteria=(Criterion("a", "==", 0),),
                            call="resilience.no_such_module:f")
    # when
    result = experiment_result(experiment, static=static_run(experiment, quick=True, out_dir=tmp_path))
    # then
    assert result["verdict"].startswith("NOT RUN: resilience.no_such_module:f unavailable")
    assert result["criteria"] == []
