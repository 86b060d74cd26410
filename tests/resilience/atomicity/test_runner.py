"""E16 (resilience/atomicity/runner.py): processes killed inside command and result transactions leave no event
without its outbox row, no outbox row without its event and no read-model drift."""
from __future__ import annotations

import json
import os

import pytest

from resilience.atomicity.runner import atomicity_runs, e16_atomicity


@pytest.mark.postgres
def test_e16_leaves_no_half_written_transaction_when_children_are_killed_at_random_statements(e16_world):
    # when 20 operations are killed at random statements (and most of them retried to commit)
    result = atomicity_runs(runs=20, seed=20251125)
    metrics = result["metrics"]
    # then every run was killed inside its transaction and nothing half-written survived
    assert metrics["kills"] == metrics["outcomes"]["killed"] >= 15, metrics["errors"]
    assert sum(metrics["kills_by_operation"].values()) == metrics["kills"]
    assert metrics["events_without_outbox"] == 0
    assert metrics["outbox_without_event"] == 0
    assert metrics["read_model_drift"] == 0
    assert not any(metrics["invariant_violations"].values()), metrics["examples"]
    # and the runs moved the state on (later runs had rows to claim and settle)
    assert metrics["state"]["events"] > 0 and metrics["state"]["outbox_rows"] > 0
    json.dumps(result)


@pytest.mark.postgres
def test_e16_atomicity_runs_in_its_own_databases_when_called_by_the_harness(tmp_path):
    # when the harness entry point runs a short experiment against its own, temporary databases
    result = e16_atomicity(runs=10, out_dir=tmp_path, db_prefix=f"bench_e16_t{os.getpid()}", keep_databases=False,
                           seed=3)
    metrics = result["metrics"]
    # then it reports the three counts at zero, the kills, and writes its JSON
    assert "error" not in metrics, result["notes"]
    assert metrics["runs"] == 10 and metrics["kills"] >= 8
    assert (metrics["events_without_outbox"], metrics["outbox_without_event"], metrics["read_model_drift"]) == (0, 0, 0)
    assert json.loads((tmp_path / "e16.json").read_text())["metrics"]["runs"] == 10
