"""E8 (resilience/static/replaceability.py): the verdict logic over a change set and three test runs, and the
change set and references found in this repository."""
from resilience.criteria import criteria_evaluate, verdict
from resilience.experiments_change import E8
from resilience.static import replaceability


def _run(passed: int, failed: int = 0) -> dict:
    return {"tests": passed + failed, "passed": passed, "failed": failed, "errors": 0}


def _verdict(rows, *, references=(), v2=None, control=None) -> tuple[str, dict]:
    runs = {"v1": _run(25), "v2": v2 or _run(25), "control": control or _run(13, 12)}
    metrics = {"e8": replaceability.e8_metrics(commit="abc", rows=rows, references=list(references), runs=runs)}
    results = criteria_evaluate(E8.criteria, metrics)
    return verdict(results), metrics["e8"]


def test_e8_passes_when_only_the_adapter_changed_and_v2_passes_what_v1_passes():
    # when the change is one new codec file and the unchanged tests pass on both cores, failing the control
    result, e8 = _verdict([(40, 0, "outbox/core_banking/wire_v2.py")])
    # then
    assert result == "PASS"
    assert (e8["change_insertions"], e8["files_outside_adapter"], e8["test_files_changed"]) == (40, 0, 0)


def test_e8_fails_when_the_change_touches_a_caller_or_a_test():
    result, e8 = _verdict([(40, 0, "outbox/core_banking/wire_v2.py"), (2, 2, "transfers/core_answers.py"),
                           (1, 1, "tests/outbox/core_banking/test_client.py")])
    assert result == "FAIL"
    assert (e8["files_outside_adapter"], e8["test_files_changed"]) == (2, 1)


def test_e8_fails_when_v2_loses_tests_or_the_control_does_not_fail():
    assert _verdict([(40, 0, "outbox/core_banking/wire_v2.py")], v2=_run(20, 5))[0] == "FAIL"
    assert _verdict([(40, 0, "outbox/core_banking/wire_v2.py")], control=_run(25))[0] == "FAIL"
    assert _verdict([(40, 0, "outbox/core_banking/wire_v2.py")], references=["config/x.py"])[0] == "FAIL"


def test_the_v2_codec_was_added_alone_and_nothing_outside_the_adapter_names_it():
    # when the repository's history and product files are read
    commit, rows = replaceability.change_files()
    # then the commit that added the codec touched only the adapter, and no product module names it
    assert [name for _, _, name in rows] == [replaceability.V2_CODEC_FILE], commit
    assert replaceability.outside_references() == []
