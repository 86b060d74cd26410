"""E8 replaceability: swap the core-banking adapter for the one of a "v2" core whose JSON fields are renamed.

Measured from the repository and by running the bank's unchanged contract tests:

- the change: the files of the commit that added the v2 codec (git), which must all lie inside the adapter
  (outbox/core_banking/) and include no test;
- no product module outside the adapter names the v2 codec;
- the same test files pass against the v1 core with the v1 codec and against the v2 core (CORE_MOCK_WIRE=v2)
  with the v2 codec (CORE_BANKING_WIRE_CODEC); a control run (v2 core, v1 codec) must fail, proving the tests
  notice a wrong adapter.
"""
from __future__ import annotations

import subprocess
from typing import Any

from resilience.environment import REPO_ROOT
from resilience.static.common import static_result
from resilience.static.suite_cost import pytest_timed

ADAPTER_DIR = "outbox/core_banking/"
V2_CODEC_FILE = "outbox/core_banking/wire_v2.py"
V2_CODEC_MODULE = "outbox.core_banking.wire_v2"
V1_CODEC_MODULE = "outbox.core_banking.wire_v1"
# Product packages that must not know which core version is spoken (the core mock is the other side).
PRODUCT_PACKAGES = ("accounts", "transfers", "balance", "auth_app", "outbox", "config", "templates")
# The bank's tests that reach the core over HTTP through the adapter (the live core server fixture).
CONTRACT_TESTS = ("tests/outbox/core_banking/test_client.py", "tests/balance/services/test_account_sync_from_core.py",
                  "tests/accounts/test_flow.py", "tests/transfers/flows/test_scenarios.py",
                  "tests/transfers/bank/test_bank.py")
TEXT_SUFFIXES = (".py", ".html", ".txt", ".toml")
CONTRACT_TESTS_QUICK = ("tests/outbox/core_banking/test_client.py",)
RUNS = {"v1": {"CORE_MOCK_WIRE": "v1", "CORE_BANKING_WIRE_CODEC": V1_CODEC_MODULE},
        "v2": {"CORE_MOCK_WIRE": "v2", "CORE_BANKING_WIRE_CODEC": V2_CODEC_MODULE},
        "control": {"CORE_MOCK_WIRE": "v2", "CORE_BANKING_WIRE_CODEC": V1_CODEC_MODULE}}


def _git(*args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    if completed.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {completed.stderr.strip()[:300]}")
    return completed.stdout


def change_files(path: str = V2_CODEC_FILE) -> tuple[str, list[tuple[int, int, str]]]:
    """The commit that added `path` and its (added, deleted, file) rows (git show --numstat)."""
    commits = _git("log", "--diff-filter=A", "--format=%H", "--", path).split()
    if not commits:
        raise RuntimeError(f"no commit adds {path}")
    commit = commits[-1]
    rows = []
    for line in _git("show", "--numstat", "--format=", commit).splitlines():
        added, deleted, name = line.split("\t", 2)
        rows.append((int(added) if added.isdigit() else 0, int(deleted) if deleted.isdigit() else 0, name))
    return commit[:10], rows


def outside_references(packages: tuple[str, ...] = PRODUCT_PACKAGES, needle: str = "wire_v2") -> list[str]:
    """Product files outside the adapter that name the v2 codec."""
    found = []
    for package in packages:
        for path in sorted((REPO_ROOT / package).rglob("*")):
            rel = str(path.relative_to(REPO_ROOT))
            if not path.is_file() or rel.startswith(ADAPTER_DIR) or path.suffix not in TEXT_SUFFIXES:
                continue
            if needle in path.read_text(encoding="utf-8", errors="replace"):
                found.append(rel)
    return found


def e8_metrics(*, commit: str, rows: list[tuple[int, int, str]], references: list[str],
               runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The E8 figures from the change's numstat rows, the outside references and the three pytest runs."""
    outside = [name for _, _, name in rows if not name.startswith(ADAPTER_DIR)]
    tests = [name for _, _, name in rows if name.startswith("tests/")]
    v1, v2, control = runs["v1"], runs["v2"], runs["control"]
    return {
        "change_commit": commit, "change_files": [name for _, _, name in rows],
        "change_insertions": sum(added for added, _, _ in rows), "change_deletions": sum(d for _, d, _ in rows),
        "files_outside_adapter": len(outside), "outside_files": outside, "test_files_changed": len(tests),
        "outside_references": len(references), "outside_reference_files": references,
        "v1_passed": v1["passed"], "v1_failed": v1["failed"] + v1["errors"],
        "v2_passed": v2["passed"], "v2_failed": v2["failed"] + v2["errors"],
        "v2_minus_v1_passed": v2["passed"] - v1["passed"],
        "control_failed": control["failed"] + control["errors"],
        "tests": v1["tests"],
    }


def e8_replaceability(quick: bool = False) -> dict[str, Any]:
    """E8: the v2 adapter's change set, references to it, and the contract tests against v1, v2 and the control."""
    commit, rows = change_files()
    targets = list(CONTRACT_TESTS_QUICK if quick else CONTRACT_TESTS)
    runs = {name: pytest_timed(targets, env_extra=env, timeout=1200) for name, env in RUNS.items()}
    metrics = {"e8": e8_metrics(commit=commit, rows=rows, references=outside_references(), runs=runs),
               "runs": {name: {key: run[key] for key in ("tests", "passed", "failed", "errors", "seconds", "summary")}
                        for name, run in runs.items()}}
    e8 = metrics["e8"]
    stat = ", ".join(f"{name} +{added} −{deleted}" for added, deleted, name in rows)
    notes = [
        f"The swap is commit {commit}: {len(rows)} file(s) ({stat}); outside the adapter {ADAPTER_DIR}: "
        f"{e8['files_outside_adapter']}, tests changed: {e8['test_files_changed']}. It is switched on by the setting "
        f"CORE_BANKING_WIRE_CODEC={V2_CODEC_MODULE}; the v2 core is the mock with CORE_MOCK_WIRE=v2.",
        f"Same unchanged tests ({', '.join(targets)}; SQLite): v1 core + v1 codec {runs['v1']['summary']}; "
        f"v2 core + v2 codec {runs['v2']['summary']}; control, v2 core + v1 codec: {runs['control']['summary']}.",
        "One-time seam (before the swap, not counted in it): client.py reads bodies through the configured codec "
        "(wire_v1.py = today's names), and the mock learned the v2 wire (corebanking_mock/wire_versions.py).",
    ]
    return static_result(metrics, notes)
