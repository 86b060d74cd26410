"""E7 (resilience/static/coupling.py): the contracts' verdicts and the cross-app import edges match the code."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from resilience.static import coupling

ROOT = Path(__file__).resolve().parents[3]


def test_e7_reports_every_contract_kept_and_the_cross_app_edges_when_run():
    # given the contracts declared in pyproject.toml
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    # when E7 runs
    result = coupling.e7_coupling()
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
    business = set(coupling.BUSINESS_APPS)
    for edge in metrics["edges"]:
        importer, imported = edge.split(" -> ")
        if importer.split(".")[0] in business and imported.split(".")[0] in business and edge not in exceptions:
            assert imported.rsplit(".", 1)[-1] in ("services", "selectors", "events"), edge
    json.dumps(result)
