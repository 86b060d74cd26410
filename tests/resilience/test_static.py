"""Static resilience experiments (resilience/static.py): E7, E10, E13, E15 report numbers that match the code."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from resilience import static

ROOT = Path(__file__).resolve().parents[2]


def test_e7_reports_every_contract_kept_and_the_cross_app_edges_when_run():
    # given the contracts declared in pyproject.toml
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    # when E7 runs
    result = static.e7_coupling()
    metrics = result["metrics"]
    # then every contract is reported kept, by id
    assert metrics["contracts"] == len(declared) >= 3
    assert metrics["contracts_broken"] == 0 and metrics["contracts_kept"] == len(declared)
    assert set(metrics["contract_status"]) == {contract["id"] for contract in declared}
    assert set(metrics["contract_status"].values()) == {"KEPT"}
    # and the edge list is the grimp graph's, with its count
    assert metrics["cross_app_edges"] == len(metrics["edges"]) > 0
    assert "transfers.services.request -> outbox.services" in metrics["edges"]
    assert sum(metrics["cross_app_edges_by_pair"].values()) == metrics["cross_app_edges"]
    assert metrics["outbox_to_business_edges"] == 0
    # and between business apps only public modules are imported, apart from the documented exceptions
    exceptions = {match for exception in metrics["exceptions"] for match in exception["matches"]}
    business = set(static.BUSINESS_APPS)
    for edge in metrics["edges"]:
        importer, imported = edge.split(" -> ")
        if importer.split(".")[0] in business and imported.split(".")[0] in business and edge not in exceptions:
            assert imported.rsplit(".", 1)[-1] in ("services", "selectors", "events"), edge
    json.dumps(result)


def test_e10_selection_follows_imports_when_transfers_changes():
    # given the import graph including the tests
    graph = static.import_graph()
    # when a change to transfers selects its tests
    selected = static.test_files_selected_by("transfers", graph)
    # then its own folder and other test modules that import transfers are in, unrelated ones are not
    assert selected[0] == "tests/transfers" or "tests/transfers" in selected
    others = [path for path in selected if path != "tests/transfers"]
    assert others and all(path.startswith("tests/") and path.endswith(".py") for path in others)
    assert all(graph.chain_exists(importer=path[:-3].replace("/", "."), imported="transfers", as_packages=True)
               for path in others)
    assert "tests/test_configuration_docs.py" not in selected


def test_e10_timing_parses_counts_when_pytest_runs_a_small_selection():
    # when one small test file is timed as a subprocess on SQLite
    run = static.pytest_timed(["tests/test_configuration_docs.py"])
    # then the counts come from pytest's summary and the time is measured
    assert run["exit"] == 0, run["summary"]
    assert run["passed"] == run["tests"] == 1
    assert run["seconds"] > 0 and run["pytest_seconds"] is not None


def test_e13_counts_match_supervised_programs_settings_models_and_code_when_run():
    # given the programs that `make run` supervises, and the settings
    programs = [line for line in (ROOT / "config" / "supervisord.conf").read_text().splitlines()
                if line.startswith("[program:")]
    # when E13 runs
    result = static.e13_inventory()
    metrics = result["metrics"]
    # then the units, queues and tables are those of the code
    assert metrics["deployable_units"] == len(programs) == 4 == len(metrics["processes"])
    assert metrics["celery_queue_count"] == len(settings.CELERY_TASK_QUEUES)
    assert metrics["database_count"] == len(settings.DATABASES)
    managed = [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]
    assert metrics["tables"] == len(managed)
    assert "transfers_transfer" in metrics["project_tables_by_database"]["default"]
    assert all(table.startswith("corebanking_mock_") for table in metrics["project_tables_by_database"]["core"])
    # and a successful transfer calls core once per leg on the saga's success path
    assert metrics["success_path_legs"] == ["WITHDRAW", "DEPOSIT"]
    assert metrics["core_http_calls_per_successful_transfer"] == 2
    # and transfer events are appended by one module, reached from the services the relay and API call
    assert metrics["transfer_event_writer_modules"] == ["transfers.services"]
    assert metrics["writers_of_transfer_state"] == 1
    for entry_point in ("transfers.services.request.transfer_request", "transfers.services.legs.transfer_leg_start",
                        "transfers.services.legs.transfer_withdrawal_record",
                        "transfers.outbox_handlers.CoreLegHandler.on_success"):
        assert entry_point in metrics["transfer_state_entry_points"]
    assert metrics["original"]["writers_of_transfer_state"] == 5
    json.dumps(result)


def test_code_lines_skips_blank_and_comment_lines_and_marks_docstrings():
    # given a source with a docstring, a comment, blank lines and code
    source = '"""Module\n\ndoc."""\n\n# comment\nx = 1  # trailing\n\n\ndef f():\n    """One line."""\n    return x\n'
    # when its lines are counted
    code, docstrings = static.code_lines(source)
    # then code lines are the module docstring's three, x = 1, def, its docstring and return
    assert code == {1, 2, 3, 6, 9, 10, 11}
    assert docstrings == {1, 2, 3, 10}


def test_e15_sums_categories_and_finds_no_internal_hop_code_when_run():
    # when E15 runs
    result = static.e15_code_size()
    metrics = result["metrics"]
    categories = metrics["categories"]
    # then the totals are the sums of their categories, and both sides are non-trivial
    assert metrics["reliability_lines"] == sum(entry["lines"] for name, entry in categories.items()
                                               if name.startswith("reliability."))
    assert metrics["business_lines"] == sum(entry["lines"] for name, entry in categories.items()
                                            if name.startswith("business."))
    assert metrics["reliability_lines"] > 500 and metrics["business_lines"] > 500
    # and the core client is counted on its own, with the lines code_lines finds in it
    core_client = ROOT / "outbox" / "core_client.py"
    assert metrics["core_client_lines"] == len(static.code_lines(core_client.read_text())[0])
    # and no module of ours talks HTTP to another of our components
    assert metrics["internal_hop_lines"] == 0 and metrics["internal_hop_modules"] == []
    # and no migration or test file is counted
    files = [path for paths in metrics["files"].values() for path in paths]
    assert not [path for path in files if "/migrations/" in path or path.startswith("tests/")]
    # and only the files split on purpose (RELIABILITY_PARTS) are counted in two categories
    assert {path for path in set(files) if files.count(path) > 1} == set(static.RELIABILITY_PARTS)
    json.dumps(result)


@pytest.mark.parametrize("name", ["e7_coupling", "e13_inventory", "e15_code_size"])
def test_static_experiments_return_metrics_and_notes(name):
    # when the experiment runs
    result = getattr(static, name)()
    # then it has the harness's shape
    assert set(result) == {"metrics", "notes"}
    assert isinstance(result["metrics"], dict) and all(isinstance(note, str) for note in result["notes"])
