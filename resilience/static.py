"""Static experiments of the resilience comparator (flows.md §6.3–§6.5): E7 coupling, E10 test cost, E13 inventory,
E15 code size.

Every number is derived from the repository at run time (import graph, supervisord programs, settings, models,
source text), so the figures cannot drift from the code. Each function returns
`{"metrics": {...}, "notes": [...]}` (JSON-serialisable).
The original's figures are the only constants, quoted from flows.md.
"""
from __future__ import annotations

import ast
import configparser
import io
import os
import re
import subprocess
import sys
import time
import tokenize
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
BUSINESS_APPS = ("accounts", "transfers", "balance", "auth_app")
PROJECT_APPS = (*BUSINESS_APPS, "outbox", "corebanking_mock")
# E7 counts import edges between these packages (business apps, the outbox engine and the core mock).
EDGE_PACKAGES = PROJECT_APPS

# --- E15 file sets (paths relative to the repository; migrations and tests are never counted) ---------------------
# Reliability machinery: what exists only because core banking is a separate system reached over the network
# (outbox + relay, idempotency, the saga's leg steps and handlers, the core client) and the operations around it.
RELIABILITY_FILES: dict[str, tuple[str, ...]] = {
    "outbox_engine": ("outbox/models.py", "outbox/services.py", "outbox/relay.py", "outbox/sql.py",
                      "outbox/registry.py", "outbox/tasks.py", "outbox/selectors.py", "outbox/mail.py",
                      "outbox/apps.py", "outbox/__init__.py"),
    "outbox_operations": ("outbox/admin.py", "outbox/checks.py", "outbox/api/**", "outbox/management/**",
                          "transfers/checks.py", "accounts/checks.py"),
    "idempotency": ("outbox/idempotency.py",),
    "saga_and_handlers": ("transfers/saga.py", "transfers/outbox_handlers.py", "transfers/core_answers.py",
                          "transfers/services/legs.py", "transfers/services/operator.py", "accounts/handlers.py"),
    "core_client": ("outbox/core_client.py",),
}
# Parts of business modules that are saga machinery (top-level names; the rest of the file is business code).
RELIABILITY_PARTS: dict[str, tuple[str, ...]] = {
    "transfers/errors.py": ("LegStillInFlightError", "CoreUnavailableError"),
}
BUSINESS_FILES: dict[str, tuple[str, ...]] = {app: (f"{app}/**",) for app in BUSINESS_APPS}
# Counted separately, neither side: project wiring, and the stand-in for the external core system.
OTHER_FILES: dict[str, tuple[str, ...]] = {
    "config_wiring": ("config/**",),
    "corebanking_mock_external_stand_in": ("corebanking_mock/**",),
}
# Code for hops between our own components over the network: modules of the apps that use an HTTP client library,
# minus the one adapter to the external core.
HTTP_CLIENT_IMPORTS = ("httpx", "requests", "urllib.request", "urllib3", "http.client", "aiohttp")
# Modules whose HTTP calls go to core banking (the external system), not between our own components: the adapter,
# and the staff page that drives the core mock's fault switch (test control of the stand-in).
CORE_ADAPTERS = ("outbox/core_client.py", "config/admin_site.py")

# --- E13: the original's inventory (flows.md §0, §2, §6.5 E13) ------------------------------------------------------
ORIGINAL_INVENTORY: dict[str, Any] = {
    "functions": 18, "core_api_functions": 1, "deployable_units": 19,
    "tables": 10, "tables_in_core": 3,
    "queues": 2, "dead_letter_queues": 2, "event_buses": 1, "bus_rules": 5, "stream_mappings": 3, "api_gateways": 2,
    # §2.2 "Written by": transfer-request, withdraw worker, withdraw-outbox, deposit worker, deposit-outbox.
    "writers_of_transfer_state": 5,
    # §2.1 step 2 (GET source, GET target) + §2.5 (withdraw, deposit).
    "core_http_calls_per_successful_transfer": 4,
    # transfer-request, withdraw worker, withdraw-outbox, deposit worker, deposit-outbox, mail-notification.
    "function_invocations_per_successful_transfer": 6,
    "client_http_requests_per_transfer": 1,
}
PYTEST_ENV_DROP = ("DATABASE_URL", "CORE_DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                   "PYTEST_ADDOPTS", "BANK_VAR_DIR")


def _result(metrics: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    return {"metrics": metrics, "notes": notes}


def _ensure_repo_on_path() -> None:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def _ensure_django() -> None:
    """Set Django up when called outside manage.py (tests and the harness already have it)."""
    from django.apps import apps

    if apps.ready:
        return
    _ensure_repo_on_path()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


# ====================================================================================================================
# E7: coupling
# ====================================================================================================================

def _lint_imports() -> tuple[int, str]:
    executable = VENV_BIN / "lint-imports"
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "importlinter.cli"]
    completed = subprocess.run([*command, "--no-cache", "--no-logo"], cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=300)
    return completed.returncode, completed.stdout + completed.stderr


def _contracts_config() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def import_graph(*packages: str):
    """The grimp import graph of `packages` (default: import-linter's root packages)."""
    import grimp

    _ensure_repo_on_path()
    names = packages or tuple(_contracts_config()["root_packages"])
    return grimp.build_graph(*names, cache_dir=None)


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def cross_app_edges(graph) -> list[tuple[str, str]]:
    """Module-level import edges (importer, imported) between different packages of EDGE_PACKAGES."""
    edges = []
    for importer in sorted(graph.modules):
        if _top(importer) not in EDGE_PACKAGES:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if _top(imported) in EDGE_PACKAGES and _top(imported) != _top(importer):
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
                       if importer_re.match(importer) and _top(importer) != _top(imported_expr)
                       and imported_expr in graph.modules
                       and graph.direct_import_exists(importer=importer, imported=imported_expr)]
            found.append({"contract": contract["id"], "ignore": line, "matches": matches})
    return found


def e7_coupling() -> dict[str, Any]:
    """E7: run the import-linter contracts (pyproject.toml) and count the cross-app import edges with grimp."""
    started = time.monotonic()
    returncode, output = _lint_imports()
    statuses = {}
    for contract in _contracts_config().get("contracts", []):
        # lint-imports wraps long names; match on the collapsed output.
        flat = " ".join(output.split())
        match = re.search(re.escape(" ".join(contract["name"].split())) + r" (KEPT|BROKEN)", flat)
        statuses[contract["id"]] = match.group(1) if match else "UNKNOWN"
    summary = re.search(r"Contracts: (\d+) kept, (\d+) broken", output)
    kept = int(summary.group(1)) if summary else sum(status == "KEPT" for status in statuses.values())
    broken = int(summary.group(2)) if summary else sum(status != "KEPT" for status in statuses.values())
    config = _contracts_config()
    graph = import_graph()
    edges = cross_app_edges(graph)
    by_pair = Counter(f"{_top(importer)}->{_top(imported)}" for importer, imported in edges)
    business_edges = [edge for edge in edges if _top(edge[0]) in BUSINESS_APPS and _top(edge[1]) in BUSINESS_APPS]
    core_importers = sorted({importer for importer in graph.modules if _top(importer) != "corebanking_mock"
                             for imported in graph.find_modules_directly_imported_by(importer)
                             if _top(imported) == "corebanking_mock"})
    metrics = {
        "contracts": len(statuses), "contracts_kept": kept, "contracts_broken": broken,
        "contract_status": statuses, "lint_imports_exit": returncode,
        "cross_app_edges": len(edges), "cross_app_package_pairs": len(by_pair),
        "cross_app_edges_by_pair": dict(sorted(by_pair.items())),
        "business_to_business_edges": len(business_edges),
        "outbox_to_business_edges": sum(1 for importer, imported in edges
                                        if _top(importer) == "outbox" and _top(imported) in BUSINESS_APPS),
        "modules_importing_corebanking_mock": core_importers,
        "edges": [f"{importer} -> {imported}" for importer, imported in edges],
        "exceptions": _exceptions_in_use(graph, config),
        "seconds": round(time.monotonic() - started, 2),
    }
    notes = [
        "Rule: accounts, transfers, balance and auth_app import each other only through services, selectors and "
        "events; auth_app's DRF plug-ins (authentication, permissions, throttling) are importable from <app>.api.views "
        "only; outbox imports no business app; only config wiring, tests and bench may import corebanking_mock.",
        f"{len(edges)} module-level import edges cross package lines among {', '.join(EDGE_PACKAGES)}; "
        f"{len(business_edges)} of them are between business apps.",
    ]
    if core_importers:
        by_package = Counter(_top(module) for module in core_importers)
        notes.append("corebanking_mock is imported directly by " + ", ".join(
            f"{count} module(s) of {package}" for package, count in sorted(by_package.items()))
            + " (tests and bench only is expected; the bank reaches it over HTTP).")
    for exception in metrics["exceptions"]:
        if not exception["matches"]:
            notes.append(f"ignore_imports line '{exception['ignore']}' no longer matches: delete it.")
    if broken:
        notes.append("lint-imports output:\n" + output[-3000:])
    return _result(metrics, notes)


# ====================================================================================================================
# E10: test cost
# ====================================================================================================================

_SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")


def _pytest_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in PYTEST_ENV_DROP}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def pytest_timed(targets: list[str], *, timeout: float = 3600) -> dict[str, Any]:
    """Run pytest on `targets` (SQLite, no server) as a subprocess: wall seconds and test counts."""
    python = VENV_BIN / "python"
    command = [str(python if python.exists() else sys.executable), "-m", "pytest", "-q", "-p", "no:randomly",
               *targets]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=_pytest_env(), capture_output=True, text=True,
                               timeout=timeout)
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
        return _result({"partial": True, "per_app": {smallest: run}, "per_app_s": {smallest: run["seconds"]},
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
    return _result(metrics, notes)


# ====================================================================================================================
# E13: inventory
# ====================================================================================================================

def run_stack_processes(path: Path | None = None) -> dict[str, str]:
    """{program name: command} of config/supervisord.conf (the deployable units of `make run`)."""
    parser = configparser.RawConfigParser()
    parser.read(path or REPO_ROOT / "config" / "supervisord.conf", encoding="utf-8")
    return {section.split(":", 1)[1]: " ".join(parser.get(section, "command").replace("%%", "%").split())
            for section in parser.sections() if section.startswith("program:")}


def _qualified_functions(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((prefix + child.name, child))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(tree, "")
    return found


def _module_files(packages: tuple[str, ...]) -> dict[str, Path]:
    files = {}
    for package in packages:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT)
            if "migrations" in rel.parts or "tests" in rel.parts:
                continue
            module = ".".join(rel.with_suffix("").parts)
            files[module.removesuffix(".__init__")] = path
    return files


_TRANSFER_ROW_WRITES = ("create", "update", "bulk_create", "bulk_update", "get_or_create", "update_or_create",
                        "delete")


def _on_transfer_manager(node: ast.AST) -> bool:
    """True when an attribute/call chain starts at `Transfer.objects` (e.g. `Transfer.objects.filter(...)`)."""
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Attribute) and node.attr == "objects" and isinstance(node.value, ast.Name):
            return node.value.id == "Transfer"
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def transfer_state_writers() -> dict[str, Any]:
    """Functions that write transfer state, found in the source: direct writers append events of the transfer
    aggregate (`event_append(aggregate_type=<transfers AGGREGATE_TYPE>)`) or write the Transfer table
    (`Transfer.objects…<write>()`); entry points are the public functions and methods that reach
    a direct writer through calls resolved by import (closure over the call graph)."""
    files = _module_files(PROJECT_APPS)
    direct: dict[str, str] = {}
    calls: dict[str, set[str]] = {}
    functions: set[str] = set()
    reexports: dict[str, str] = {}  # "package.name" → "package.module.name" (a package __init__ re-exporting)
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: dict[str, str] = {}  # local name → "module.name" or "module"
        transfer_events_aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    if node.module == "transfers" and alias.name == "events":
                        transfer_events_aliases.add(alias.asname or alias.name)
                    if path.name == "__init__.py" and node.module.startswith(f"{module}."):
                        reexports[f"{module}.{alias.asname or alias.name}"] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    imported[alias.asname or alias.name] = alias.name
        # Class attributes (`record = staticmethod(service)`) are nodes too: a method calling `self.record(...)`
        # may reach what any class of the module assigns to `record`.
        for class_node in (node for node in tree.body if isinstance(node, ast.ClassDef)):
            for statement in class_node.body:
                if isinstance(statement, ast.Assign):
                    for target in statement.targets:
                        if isinstance(target, ast.Name):
                            mentioned = {imported.get(name.id, f"{module}.{name.id}")
                                         for name in ast.walk(statement.value) if isinstance(name, ast.Name)}
                            key = f"{module}.<attribute {target.id}>"
                            calls[key] = calls.get(key, set()) | mentioned
        local_defs = {name for name, _ in _qualified_functions(tree)}
        functions.update(f"{module}.{name}" for name in local_defs)
        # Module-level tables such as `LEG_RECORDERS = {leg: transfer_withdrawal_record, ...}` dispatch to functions:
        # they become nodes of the call graph too, and every name a function mentions counts as a possible call.
        module_names = {target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                        if isinstance(target, ast.Name)}
        nodes = list(_qualified_functions(tree)) + [
            (target.id, node) for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)]
        for name, function in nodes:
            qualified = f"{module}.{name}"
            targets: set[str] = set()
            for node in ast.walk(function):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    if node.id in local_defs or node.id in module_names:
                        targets.add(f"{module}.{node.id}")
                    elif node.id in imported:
                        targets.add(imported[node.id])
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Name):
                    if func.id == "event_append" or imported.get(func.id, "").endswith(".event_append"):
                        for keyword in node.keywords:
                            value = keyword.value
                            if keyword.arg == "aggregate_type" and isinstance(value, ast.Attribute) and \
                                    isinstance(value.value, ast.Name) and (
                                        value.value.id in transfer_events_aliases
                                        or (module.startswith("transfers.") and value.value.id == "ev")):
                                direct[qualified] = "appends transfer events"
                elif isinstance(func, ast.Attribute):
                    if isinstance(func.value, ast.Name) and func.value.id in imported:
                        targets.add(f"{imported[func.value.id]}.{func.attr}")
                    if isinstance(func.value, ast.Name) and func.value.id == "self":
                        targets.add(f"{module}.<attribute {func.attr}>")
                    if func.attr in _TRANSFER_ROW_WRITES and _on_transfer_manager(func.value):
                        direct.setdefault(qualified, "writes the Transfer table")
            targets.discard(qualified)
            calls[qualified] = targets
    def resolved(target: str) -> str:
        while target in reexports:
            target = reexports[target]
        return target

    calls = {function: {resolved(target) for target in targets} for function, targets in calls.items()}
    writers = set(direct)
    changed = True
    while changed:
        changed = False
        for function, targets in calls.items():
            if function not in writers and targets & writers:
                writers.add(function)
                changed = True

    def public(qualified: str) -> bool:
        return qualified in functions and not any(part.startswith("_") for part in qualified.split("."))

    # AppConfig.ready() mentions the projection functions to register them: registration, not a call.
    entry_points = sorted(function for function in writers if public(function) and not function.endswith(".ready"))
    event_modules = sorted({function.rsplit(".", 1)[0] for function, why in direct.items()
                            if why == "appends transfer events"})
    row_modules = sorted({function.rsplit(".", 1)[0] for function, why in direct.items()
                          if why != "appends transfer events"})
    # strip class names from module paths for the row writers (e.g. module.Class.method → module)
    return {"direct": dict(sorted(direct.items())), "entry_points": entry_points,
            "event_writer_modules": sorted({_owning_module(_module_of(m, files)) for m in event_modules}),
            "row_writer_modules": sorted({_owning_module(_module_of(m, files)) for m in row_modules})}


def _owning_module(module: str) -> str:
    """A module of an app's `services` package counts as that package (`transfers.services.legs` →
    `transfers.services`): the package is the one public owner of the app's state changes."""
    head, _, _rest = module.partition(".services.")
    return f"{head}.services" if _rest else module


def _module_of(dotted: str, files: dict[str, Path]) -> str:
    while dotted and dotted not in files:
        dotted = dotted.rsplit(".", 1)[0] if "." in dotted else ""
    return dotted


def _success_path_legs() -> list[str]:
    """The legs a successful transfer runs, walked through transfers.saga.TRANSITIONS (OK outcomes)."""
    from transfers import events as ev
    from transfers import saga

    phase, legs, seen = saga.NEW, [], set()
    while not saga.is_terminal(phase) and phase not in seen:
        seen.add(phase)
        options = saga.TRANSITIONS[phase]
        preferred = [key for key in options if key[0] not in (ev.TRANSFER_REJECTED, ev.TRANSFER_FAILED,
                                                              ev.COMPENSATION_REQUESTED)
                     and key[1] in (None, saga.OK) and key[0] != ev.PROCESSING_STARTED]
        key = preferred[0] if preferred else next(iter(options))
        leg = saga.DRIVING_LEG.get(phase)
        if leg and leg not in legs:
            legs.append(leg)
        phase = options[key]
    return legs


def e13_inventory() -> dict[str, Any]:
    """E13: deployable units, infrastructure, hops and writers of transfer state, against the original."""
    _ensure_django()
    from django.apps import apps
    from django.conf import settings
    from django.db import router

    processes = run_stack_processes()
    databases = {alias: {"engine": conf["ENGINE"].rsplit(".", 1)[-1], "name": str(conf.get("NAME", ""))}
                 for alias, conf in settings.DATABASES.items()}
    queues = [getattr(queue, "name", str(queue)) for queue in getattr(settings, "CELERY_TASK_QUEUES", ())]
    outbox_queues = list(getattr(settings, "OUTBOX_QUEUES", ()))
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    tables_by_alias: dict[str, list[str]] = defaultdict(list)
    project_tables_by_alias: dict[str, list[str]] = defaultdict(list)
    for model in apps.get_models():
        meta = model._meta
        if not meta.managed or meta.proxy:
            continue
        alias = router.db_for_write(model) or "default"
        tables_by_alias[alias].append(meta.db_table)
        if meta.app_label in PROJECT_APPS:
            project_tables_by_alias[alias].append(meta.db_table)
    project_tables = sum(len(tables) for tables in project_tables_by_alias.values())
    from transfers import outbox_handlers as transfer_handlers

    legs = _success_path_legs()
    # One core HTTP call per leg when the answer is definite (CoreLegHandler.call); an ambiguous answer adds a
    # key lookup, a refused deposit adds a void: neither happens on the success path.
    leg_handlers = {leg: cls.__name__ for cls in (transfer_handlers.WithdrawHandler, transfer_handlers.DepositHandler,
                                                  transfer_handlers.RefundHandler) for leg in [cls.leg]}
    writers = transfer_state_writers()
    worker_processes = [name for name, command in processes.items() if "celery" in command and " worker" in command]
    metrics = {
        "deployable_units": len(processes), "processes": sorted(processes),
        "celery_worker_processes": len(worker_processes),
        "databases": databases, "database_count": len(databases),
        "broker": broker, "infrastructure_resources": len(databases) + 1,
        "celery_queues": queues, "celery_queue_count": len(queues), "outbox_queues": outbox_queues,
        "dead_letter_stores": 1,  # outbox rows in status `failed` (one table, per-queue filter)
        "tables": sum(len(tables) for tables in tables_by_alias.values()),
        "tables_by_database": {alias: len(tables) for alias, tables in sorted(tables_by_alias.items())},
        "project_tables": project_tables,
        "project_tables_by_database": {alias: sorted(tables)
                                       for alias, tables in sorted(project_tables_by_alias.items())},
        "event_buses": 0, "stream_mappings": 0, "api_gateways": 0,
        "success_path_legs": legs, "leg_handlers": {leg: leg_handlers.get(leg) for leg in legs},
        "core_http_calls_per_successful_transfer": len(legs),
        "client_http_requests_per_transfer": 1,
        "network_hops_per_successful_transfer": 1 + len(legs),
        "writers_of_transfer_state": len(writers["event_writer_modules"]),
        "transfer_event_writer_modules": writers["event_writer_modules"],
        "transfer_row_writer_modules": writers["row_writer_modules"],
        "transfer_state_direct_writers": writers["direct"],
        "transfer_state_entry_points": writers["entry_points"],
        "transfer_state_entry_point_count": len(writers["entry_points"]),
        "original": ORIGINAL_INVENTORY,
    }
    database_list = ", ".join(f"{alias}={conf['engine']}" for alias, conf in databases.items())
    notes = [
        f"Deployable units are the supervised processes of `make run` ({', '.join(sorted(processes))}); "
        f"the original has "
        f"{ORIGINAL_INVENTORY['functions']} functions + {ORIGINAL_INVENTORY['core_api_functions']} core API function.",
        f"Infrastructure: {len(databases)} database(s) ({database_list}) "
        f"and one broker ({broker}) with {len(queues)} Celery queues; no bus, streams or API gateways. Original: "
        "10 tables (3 in core), 2 queues + 2 DLQs, 1 bus with 5 rules, 3 stream mappings, 2 API gateways.",
        f"Hops per successful transfer: browser→web 1, worker→core {len(legs)} ({' + '.join(legs)}); the request path "
        "never calls core. Original: 2 pre-check GETs + withdraw + deposit = 4 core calls across 6 function "
        "invocations.",
        "Writers of transfer state: the modules that append transfer events (the source of truth). Transfer rows are "
        "a projection written by " + ", ".join(writers["row_writer_modules"] or ["nothing"]) + " inside the same "
        f"event_append call. {len(writers['entry_points'])} public functions/methods reach a write (all through "
        + ", ".join(writers["event_writer_modules"]) + "). Original: 5 functions in 5 deployables.",
    ]
    return _result(metrics, notes)


# ====================================================================================================================
# E15: code size
# ====================================================================================================================

def _expand(patterns: tuple[str, ...]) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        if pattern.endswith("/**"):
            paths += sorted((REPO_ROOT / pattern[:-3]).rglob("*.py"))
        else:
            path = REPO_ROOT / pattern
            if path.exists():
                paths.append(path)
    return [path for path in paths if "migrations" not in path.relative_to(REPO_ROOT).parts]


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                    isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(source: str) -> tuple[set[int], set[int]]:
    """(lines with code, of which docstring lines): non-blank lines holding a token other than a comment."""
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                          tokenize.ENDMARKER):
            continue
        lines.update(range(token.start[0], token.end[0] + 1))
    return lines, _docstring_lines(ast.parse(source)) & lines


def _part_lines(tree: ast.Module, names: tuple[str, ...]) -> tuple[set[int], list[str]]:
    """Line numbers of the named top-level definitions/assignments; names not found."""
    lines: set[int] = set()
    found = set()
    for node in tree.body:
        node_names = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            node_names = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            node_names = [target.id for target in targets if isinstance(target, ast.Name)]
        hit = [name for name in node_names if name in names]
        if hit:
            found.update(hit)
            start = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
            lines.update(range(start, node.end_lineno + 1))
    return lines, sorted(set(names) - found)


def e15_code_size() -> dict[str, Any]:
    """E15: non-blank, non-comment lines of reliability machinery vs business code (no migrations, no tests)."""
    notes: list[str] = []
    counted: dict[Path, set[int]] = {}  # lines already given to a category
    categories: dict[str, dict[str, int]] = {}
    files_of: dict[str, list[str]] = {}

    def add(category: str, path: Path, only: set[int] | None = None, exclude: set[int] | None = None) -> None:
        source = path.read_text(encoding="utf-8")
        code, docstrings = code_lines(source)
        if only is not None:
            code, docstrings = code & only, docstrings & only
        if exclude:
            code, docstrings = code - exclude, docstrings - exclude
        code -= counted.get(path, set())
        docstrings &= code
        counted.setdefault(path, set()).update(code)
        entry = categories.setdefault(category, {"lines": 0, "lines_without_docstrings": 0, "files": 0})
        entry["lines"] += len(code)
        entry["lines_without_docstrings"] += len(code - docstrings)
        if code:
            entry["files"] += 1
            files_of.setdefault(category, []).append(str(path.relative_to(REPO_ROOT)))

    for category, patterns in RELIABILITY_FILES.items():
        for path in _expand(patterns):
            add(f"reliability.{category}", path)
    part_lines: dict[Path, set[int]] = {}
    for rel, names in RELIABILITY_PARTS.items():
        path = REPO_ROOT / rel
        lines, missing = _part_lines(ast.parse(path.read_text(encoding="utf-8")), names)
        part_lines[path] = lines
        add("reliability.saga_and_handlers", path, only=lines)
        if missing:
            notes.append(f"{rel}: saga names not found (renamed?): {', '.join(missing)}")
    for category, patterns in BUSINESS_FILES.items():
        for path in _expand(patterns):
            add(f"business.{category}", path)
    for category, patterns in OTHER_FILES.items():
        for path in _expand(patterns):
            add(f"other.{category}", path)
    # Internal hops: modules of ours that use an HTTP client, other than the core adapter.
    http_modules = []
    for path in _expand(tuple(f"{package}/**" for package in (*BUSINESS_APPS, "outbox", "config"))):
        rel = str(path.relative_to(REPO_ROOT))
        if rel in CORE_ADAPTERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name == lib or name.startswith(lib + ".") for name in names for lib in HTTP_CLIENT_IMPORTS):
                http_modules.append(rel)
                break
    internal_hop_lines = sum(len(code_lines((REPO_ROOT / rel).read_text(encoding="utf-8"))[0]) for rel in http_modules)

    def total(prefix: str, key: str = "lines") -> int:
        return sum(entry[key] for name, entry in categories.items() if name.startswith(prefix))

    reliability, business = total("reliability."), total("business.")
    metrics = {
        "reliability_lines": reliability, "business_lines": business,
        "reliability_lines_without_docstrings": total("reliability.", "lines_without_docstrings"),
        "business_lines_without_docstrings": total("business.", "lines_without_docstrings"),
        "reliability_share": round(reliability / (reliability + business), 3) if reliability + business else None,
        "reliability_to_business": round(reliability / business, 3) if business else None,
        "categories": {name: categories[name] for name in sorted(categories)},
        "core_client_lines": categories.get("reliability.core_client", {}).get("lines", 0),
        "internal_hop_lines": internal_hop_lines, "internal_hop_modules": http_modules,
        "files": {name: files_of[name] for name in sorted(files_of)},
    }
    notes += [
        "Lines = non-blank lines holding code (comments excluded; docstrings counted, also reported without). "
        "Migrations and tests are excluded. The file sets are RELIABILITY_FILES / RELIABILITY_PARTS / BUSINESS_FILES "
        "at the top of resilience/static.py.",
        f"Reliability machinery {reliability} lines vs business {business}: the outbox, relay, idempotency, saga "
        "steps and the core client remain because core banking is external; internal hops need no code "
        f"({internal_hop_lines} lines in modules that use an HTTP client, other than the core adapters "
        f"{', '.join(CORE_ADAPTERS)}).",
    ]
    return _result(metrics, notes)
