"""resilience/criteria.py: the PASS/FAIL evaluation of an experiment's criteria, the quick gate and the verdict."""
import pytest

from resilience import criteria
from resilience.criteria import Criterion


def test_criterion_passes_when_the_measured_value_meets_the_target():
    # given
    metrics = {"endpoints": {"balance": {"fault": {"availability": 0.9995}}}}
    # when
    result = criteria.criterion_evaluate(Criterion("endpoints.balance.fault.availability", ">=", 0.999), metrics)
    # then
    assert result["passed"] is True
    assert result["value"] == 0.9995


def test_criterion_fails_when_the_value_misses_the_target():
    # when
    result = criteria.criterion_evaluate(Criterion("transfers.lost", "==", 0), {"transfers": {"lost": 3}})
    # then
    assert result["passed"] is False
    assert result["value"] == 3


def test_criterion_fails_as_not_measured_when_the_metric_is_missing():
    # when
    result = criteria.criterion_evaluate(Criterion("outbox.drain_s", "<=", 10), {"outbox": {"drain_s": None}})
    # then
    assert result == {"label": "outbox.drain_s <= 10", "metric": "outbox.drain_s", "op": "<=", "target": 10,
                      "value": None, "passed": False, "timing": False}


def test_quick_gate_ignores_failed_timing_targets_but_not_correctness_criteria():
    # given
    drain = {"passed": False, "timing": True}
    lost = {"passed": False, "timing": False}
    ok = {"passed": True, "timing": False}
    # then
    assert criteria.gate_failed([drain, ok], quick=True) is False
    assert criteria.gate_failed([drain, ok], quick=False) is True
    assert criteria.gate_failed([lost, ok], quick=True) is True


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError):
        Criterion("x", "=~", 1)


def test_verdict_is_pass_only_when_every_criterion_passed_and_not_run_on_error():
    # given
    passed, failed = {"passed": True}, {"passed": False}
    # then
    assert criteria.verdict([passed, passed]) == "PASS"
    assert criteria.verdict([passed, failed]) == "FAIL"
    assert criteria.verdict([], error="resilience.static unavailable") == \
        "NOT RUN: resilience.static unavailable"
