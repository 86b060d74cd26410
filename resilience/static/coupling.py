"""E7 static coupling: the import-linter contracts (pyproject.toml) and the cross-app import edges (grimp)."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from resilience.environment import REPO_ROOT, VENV_BIN
from resilience.static.common import (
    BUSINESS_APPS,
    EDGE_PACKAGES,
    contracts_config,
    import_graph,
    static_result,
    top_package,
)


def _lint_imports() -> tuple[int, str]:
    executable = VENV_BIN / "lint-imports"
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "importlinter.cli"]
    completed = subprocess.run([*command, "--no-cache", "--no-logo"], cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=300)
    return completed.returncode, completed.stdout + completed.stderr


def cross_app_edges(graph) -> list[tuple[str, str]]:
    """Module-level import edges (importer, imported) between different packages of EDGE_PACKAGES."""
    edges = []
    for importer in sorted(graph.modules):
        if top_package(importer) not in EDGE_PACKAGES:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if top_package(imported) in EDGE_PACKAGES and top_package(imported) != top_package(importer):
                edges.append((importer, imported))
    return edges


def _exceptions_in_use(graph, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The contracts' ignore_imports lines other than the public-surface rule (services/selectors/events), with
    the edges each one still matches (an empty list means the exception can be deleted)."""
    public = re.compile(r"^\*\* -> \w+\.(services|selectors|events)$")
    found = []
    for contract in config.get("contracts", []):
        for line in contract.get("ignore_imports", []):
            if public.match(line):
                continue
            importer_expr, imported_expr = (part.strip() for part in line.split("->"))
            importer_re = re.compile("^" + re.escape(importer_expr).replace(r"\*\*", ".+").replace(r"\*", "[^.]+")
                                     + "$")
            matches = [f"{importer} -> {imported_expr}" for importer in sorted(graph.modules)
                       if importer_re.match(importer) and top_package(importer) != top_package(imported_expr)
                       and imported_expr in graph.modules
                       and graph.direct_import_exists(importer=importer, imported=imported_expr)]
            found.append({"contract": contract["id"], "ignore": line, "matches": matches})
    return found


def e7_coupling() -> dict[str, Any]:
    """E7: run the import-linter contracts (pyproject.toml) and count the cross-app import edges with grimp."""
    started = time.monotonic()
    returncode, output = _lint_imports()
    statuses = {}
    for contract in contracts_config().get("contracts", []):
        # lint-imports wraps long names; match on the collapsed output.
        flat = " ".join(output.split())
        match = re.search(re.escape(" ".join(contract["name"].split())) + r" (KEPT|BROKEN)", flat)
        statuses[contract["id"]] = match.group(1) if match else "UNKNOWN"
    summary = re.search(r"Contracts: (\d+) kept, (\d+) broken", output)
    kept = int(summary.group(1)) if summary else sum(status == "KEPT" for status in statuses.values())
    broken = int(summary.group(2)) if summary else sum(status != "KEPT" for status in statuses.values())
    config = contracts_config()
    graph = import_graph()
    edges = cross_app_edges(graph)
    by_pair = Counter(f"{top_package(importer)}->{top_package(imported)}" for importer, imported in edges)
    business_edges = [(importer, imported) for importer, imported in edges
                      if top_package(importer) in BUSINESS_APPS and top_package(imported) in BUSINESS_APPS]
    core_importers = sorted({importer for importer in graph.modules if top_package(importer) != "corebanking_mock"
                             for imported in graph.find_modules_directly_imported_by(importer)
                             if top_package(imported) == "corebanking_mock"})
    metrics = {
        "contracts": len(statuses), "contracts_kept": kept, "contracts_broken": broken,
        "contract_status": statuses, "lint_imports_exit": returncode,
        "cross_app_edges": len(edges), "cross_app_package_pairs": len(by_pair),
        "cross_app_edges_by_pair": dict(sorted(by_pair.items())),
        "business_to_business_edges": len(business_edges),
        "outbox_to_business_edges": sum(1 for importer, imported in edges if top_package(importer) == "outbox"
                                        and top_package(imported) in BUSINESS_APPS),
        "modules_importing_corebanking_mock": core_importers,
        "edges": [f"{importer} -> {imported}" for importer, imported in edges],
        "exceptions": _exceptions_in_use(graph, config),
        "seconds": round(time.monotonic() - started, 2),
    }
    notes = [
        "Rule: accounts, transfers, balance and auth_app import each other only through services, selectors and "
        "events; auth_app's DRF plug-ins (authentication, permissions, throttling) are importable from <app>.api.views "
        "only; outbox imports no business app; only config wiring, tests and the resilience harness may import "
        "corebanking_mock.",
        f"{len(edges)} module-level import edges cross package lines among {', '.join(EDGE_PACKAGES)}; "
        f"{len(business_edges)} of them are between business apps.",
    ]
    if core_importers:
        by_package = Counter(top_package(module) for module in core_importers)
        notes.append("corebanking_mock is imported directly by " + ", ".join(
            f"{count} module(s) of {package}" for package, count in sorted(by_package.items()))
            + " (tests and resilience only is expected; the bank reaches it over HTTP).")
    for exception in metrics["exceptions"]:
        if not exception["matches"]:
            notes.append(f"ignore_imports line '{exception['ignore']}' no longer matches: delete it.")
    if broken:
        notes.append("lint-imports output:\n" + output[-3000:])
    return static_result(metrics, notes)
