"""E10 test cost: wall time of the full suite, of each app's suite and of the selection of a one-app change.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from resilience.environment import INHERITED_ENV, REPO_ROOT, VENV_BIN
from resilience.static.common import (
    PROJECT_APPS,
    import_graph,
    static_result,
)

# The timed suites run as CI's first pass does: the embedded default, with nothing of the harness's own world.
# Only the shell basics (and CI) pass through; the harness process itself carries the run's databases, broker,
# core URL and random secrets (SECRET_KEY, JWT_SIGNING_KEY, the core keys), and tests that sign or check with the
# test settings' keys fail under those.
PYTEST_ENV_KEEP = (*INHERITED_ENV, "CI")

_SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")


def _pytest_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name in PYTEST_ENV_KEEP}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def pytest_timed(targets: list[str], *, timeout: float = 3600, env_extra: dict[str, str] | None = None
                 ) -> dict[str, Any]:
    """Run pytest on `targets` (SQLite, no server) as a subprocess, with `env_extra` added to its environment:
    wall seconds and test counts."""
    python = VENV_BIN / "python"
    command = [str(python if python.exists() else sys.executable), "-m", "pytest", "-q", "-p", "no:randomly",
               *targets]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, env={**_pytest_env(), **(env_extra or {})},
                               capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    tail = completed.stdout.strip().splitlines()[-1:] or [""]
    counts: dict[str, int] = defaultdict(int)
    for number, word in _SUMMARY.findall(tail[0]):
        counts["errors" if word.startswith("error") else word] += int(number)
    reported = re.search(r"in ([\d.]+)s", tail[0])
    return {"targets": targets, "seconds": round(seconds, 2),
            "pytest_seconds": float(reported.group(1)) if reported else None,
            "tests": sum(counts[key] for key in ("passed", "failed", "skipped", "errors", "xfailed", "xpassed")),
            **{key: counts[key] for key in ("passed", "failed", "skipped", "errors")},
            "exit": completed.returncode, "summary": tail[0][:300],
            "failures": [line[:300] for line in completed.stdout.splitlines()
                         if line.startswith(("FAILED ", "ERROR "))][:20]}


def test_files_selected_by(app: str, graph=None) -> list[str]:
    """Test files a change to `app` selects: tests/<app>/ plus every other test module that imports `app`
    (directly or through other modules; the fixture plugins every test loads are not followed)."""
    graph = graph or import_graph()
    selected = {f"tests/{app}"}
    fixture_modules = {module for module in graph.modules if module.startswith("tests.fixtures")
                       or module == "tests.conftest"}
    for module in sorted(graph.modules):
        name = module.rsplit(".", 1)[-1]
        if not module.startswith("tests.") or not name.startswith("test_") or module.startswith(f"tests.{app}."):
            continue
        if module in fixture_modules:
            continue
        if graph.chain_exists(importer=module, imported=app, as_packages=True):
            selected.add(module.replace(".", "/") + ".py")
    return sorted(selected)


def e10_test_cost(quick: bool = False) -> dict[str, Any]:
    """E10: wall time of the full suite, of each app's suite and of the selection of a one-app change (SQLite).

    quick=True times only the smallest app suite (the result is partial)."""
    graph = import_graph()
    app_dirs = [app for app in PROJECT_APPS if (REPO_ROOT / "tests" / app).is_dir()]
    sizes = {app: len(list((REPO_ROOT / "tests" / app).rglob("test_*.py"))) for app in app_dirs}
    notes = ["pytest subprocesses on the embedded default (SQLite, filesystem broker): tests marked postgres/redis/"
             "browser are skipped there, as in the first CI pass; -p no:randomly."]
    if quick:
        smallest = min(app_dirs, key=lambda app: (sizes[app], app))
        run = pytest_timed([f"tests/{smallest}"])
        notes.append(f"quick: only tests/{smallest} was timed; full suite and one-app selection not measured.")
        return static_result({"partial": True, "per_app": {smallest: run}, "per_app_s": {smallest: run["seconds"]},
                        "failed": run["failed"] + run["errors"]}, notes)
    full = pytest_timed(["tests"])
    per_app = {app: pytest_timed([f"tests/{app}"]) for app in app_dirs}
    change_app = "transfers"
    selection = test_files_selected_by(change_app, graph)
    selected = pytest_timed(selection)
    metrics = {
        "partial": False,
        "full_suite_s": full["seconds"], "full_suite_tests": full["tests"], "full": full,
        "per_app_s": {app: run["seconds"] for app, run in per_app.items()},
        "per_app_tests": {app: run["tests"] for app, run in per_app.items()},
        "per_app": per_app,
        "one_app_change": change_app, "one_app_change_files": selection,
        "one_app_change_s": selected["seconds"], "one_app_change_tests": selected["tests"], "selected": selected,
        "one_app_change_share": round(selected["seconds"] / full["seconds"], 3) if full["seconds"] else None,
        "failed": sum(run["failed"] + run["errors"] for run in (full, selected, *per_app.values())),
    }
    notes.append(f"A change to {change_app} selects tests/{change_app} and {len(selection) - 1} other test module(s) "
                 "that import it (grimp import chains).")
    return static_result(metrics, notes)
