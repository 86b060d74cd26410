"""resilience/harness.py: a static experiment whose function cannot be imported is NOT RUN, with the reason."""
from resilience.criteria import Criterion, Experiment
from resilience.harness import experiment_result, static_run


def test_static_experiment_is_not_run_with_the_reason_when_its_module_is_missing(tmp_path):
    # given
    experiment = Experiment(id="EX", title="x", dimension="coupling", kind="static", hypothesis="", method="",
                            rollback="", criteria=(Criterion("a", "==", 0),),
                            call="resilience.no_such_module:f")
    # when
    result = experiment_result(experiment, static=static_run(experiment, quick=True, out_dir=tmp_path))
    # then
    assert result["verdict"].startswith("NOT RUN: resilience.no_such_module:f unavailable")
    assert result["criteria"] == []
