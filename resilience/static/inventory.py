"""E13 inventory: deployable units, infrastructure, network hops and writers of transfer state, against the
original's figures (the only constants, quoted from the specification).
"""
from __future__ import annotations

import ast
import configparser
from collections import defaultdict
from pathlib import Path
from typing import Any

from resilience.environment import REPO_ROOT
from resilience.static.common import (
    PROJECT_APPS,
    django_ensure,
    static_result,
)

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
    django_ensure()
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
    return static_result(metrics, notes)
