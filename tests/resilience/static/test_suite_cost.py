"""E10 (resilience/static/suite_cost.py): the selection of a one-app change and the timing of pytest runs."""
from __future__ import annotations

from pathlib import Path

from resilience.static import suite_cost

ROOT = Path(__file__).resolve().parents[3]


def test_e10_selection_follows_imports_when_transfers_changes():
    # given the import graph including the tests
    graph = suite_cost.import_graph()
    # when a change to transfers selects its tests
    selected = suite_cost.test_files_selected_by("transfers", graph)
    # then its own folder and other test modules that import transfers are in, unrelated ones are not
    assert selected[0] == "tests/transfers" or "tests/transfers" in selected
    others = [path for path in selected if path != "tests/transfers"]
    assert others and all(path.startswith("tests/") and path.endswith(".py") for path in others)
    assert all(graph.chain_exists(importer=path[:-3].replace("/", "."), imported="transfers", as_packages=True)
               for path in others)
    assert "tests/test_configuration_docs.py" not in selected


def test_e10_timing_parses_counts_when_pytest_runs_a_small_selection():
    # when one small test file is timed as a subprocess on SQLite
    run = suite_cost.pytest_timed(["tests/test_configuration_docs.py"])
    # then the counts come from pytest's summary and the time is measured
    assert run["exit"] == 0, run["summary"]
    assert run["passed"] == run["tests"] == 1
    assert run["seconds"] > 0 and run["pytest_seconds"] is not None


def test_the_timed_suites_run_without_the_harness_world_in_their_environment(monkeypatch):
    # given the harness process's own environment: its run's random secrets, databases and core URL
    for name, value in {"JWT_SIGNING_KEY": "harness-run-key", "CORE_MOCK_CONTROL_KEY": "harness-control-key",
                        "SECRET_KEY": "harness-secret", "DATABASE_URL": "postgres://127.0.0.1:1/nowhere",
                        "CORE_BANKING_URL": "http://127.0.0.1:1"}.items():
        monkeypatch.setenv(name, value)
    # when a suite whose tests sign and check with the test settings' keys is timed
    run = suite_cost.pytest_timed(["tests/corebanking_mock/api/test_fault_control.py",
                                   "tests/auth_app/api/test_login.py"])
    # then it runs as on CI's first pass: every test passes
    assert run["exit"] == 0 and run["failed"] == 0 and run["passed"] > 0, run["summary"]
