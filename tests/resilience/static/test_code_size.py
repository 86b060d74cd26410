"""E15 (resilience/static/code_size.py): code lines and the category sums."""
from __future__ import annotations

import json
from pathlib import Path

from resilience.static import code_size

ROOT = Path(__file__).resolve().parents[3]


def test_code_lines_skips_blank_and_comment_lines_and_marks_docstrings():
    # given a source with a docstring, a comment, blank lines and code
    source = '"""Module\n\ndoc."""\n\n# comment\nx = 1  # trailing\n\n\ndef f():\n    """One line."""\n    return x\n'
    # when its lines are counted
    code, docstrings = code_size.code_lines(source)
    # then code lines are the module docstring's three, x = 1, def, its docstring and return
    assert code == {1, 2, 3, 6, 9, 10, 11}
    assert docstrings == {1, 2, 3, 10}


def test_e15_sums_categories_and_finds_no_internal_hop_code_when_run():
    # when E15 runs
    result = code_size.e15_code_size()
    metrics = result["metrics"]
    categories = metrics["categories"]
    # then the totals are the sums of their categories, and both sides are non-trivial
    assert metrics["reliability_lines"] == sum(entry["lines"] for name, entry in categories.items()
                                               if name.startswith("reliability."))
    assert metrics["business_lines"] == sum(entry["lines"] for name, entry in categories.items()
                                            if name.startswith("business."))
    assert metrics["reliability_lines"] > 500 and metrics["business_lines"] > 500
    # and the core client is counted on its own, with the lines code_lines finds in it
    core_client = ROOT / "outbox" / "core_banking" / "client.py"
    assert metrics["core_client_lines"] == len(code_size.code_lines(core_client.read_text())[0])
    # and no module of ours talks HTTP to another of our components
    assert metrics["internal_hop_lines"] == 0 and metrics["internal_hop_modules"] == []
    # and no migration or test file is counted
    files = [path for paths in metrics["files"].values() for path in paths]
    assert not [path for path in files if "/migrations/" in path or path.startswith("tests/")]
    # and only the files split on purpose (RELIABILITY_PARTS) are counted in two categories
    assert {path for path in set(files) if files.count(path) > 1} == set(code_size.RELIABILITY_PARTS)
    json.dumps(result)
