"""Every static experiment (resilience/static/) returns the harness's shape: metrics and notes, JSON-serialisable."""

import pytest

from resilience.static import code_size, coupling, inventory


@pytest.mark.parametrize("function", [coupling.e7_coupling, inventory.e13_inventory, code_size.e15_code_size],
                         ids=["e7_coupling", "e13_inventory", "e15_code_size"])
def test_static_experiments_return_metrics_and_notes(function):
    # when the experiment runs
    result = function()
    # then it has the harness's shape
    assert set(result) == {"metrics", "notes"}
    assert isinstance(result["metrics"], dict) and all(isinstance(note, str) for note in result["notes"])
