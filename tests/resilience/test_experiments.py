"""resilience/experiments.py: the registry as data (criteria, static functions, quick set, selection)."""
import pytest

from resilience import experiments as registry


def test_e1_drain_target_is_a_timing_target_and_lost_is_not():
    criteria = {criterion.metric: criterion for criterion in registry.EXPERIMENTS_BY_ID["E1"].criteria}
    assert criteria["outbox.drain_s"].timing is True
    assert criteria["transfers.lost"].timing is False


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
    assert calls == {"E7": "resilience.static.coupling:e7_coupling",
                     "E10": "resilience.static.suite_cost:e10_test_cost",
                     "E13": "resilience.static.inventory:e13_inventory",
                     "E15": "resilience.static.code_size:e15_code_size",
                     "E16": "resilience.atomicity.runner:e16_atomicity"}
    assert registry.EXPERIMENTS_BY_ID["E16"].call_kwargs_quick == {"runs": 100}
    assert registry.QUICK == ("E1", "E18", "E16")


def test_select_refuses_unknown_ids_and_defaults_to_the_quick_set():
    with pytest.raises(ValueError, match="E99"):
        registry.experiments_select("E1,E99", quick=False)
    assert [experiment.id for experiment in registry.experiments_select(None, quick=True)] == list(registry.QUICK)
    assert [experiment.id for experiment in registry.experiments_select("e2, E1, e4b", quick=False)] == \
        ["E2", "E1", "E4b"]
