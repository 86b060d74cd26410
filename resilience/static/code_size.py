"""E15 code size: lines in the reliability machinery (outbox, idempotency, saga, core client) against business
code. Migrations and tests are never counted.
"""
from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path
from typing import Any

from resilience.environment import REPO_ROOT
from resilience.static.common import (
    BUSINESS_APPS,
    static_result,
)

# --- E15 file sets (paths relative to the repository; migrations and tests are never counted) ---------------------
# Reliability machinery: what exists only because core banking is a separate system reached over the network
# (outbox + relay, idempotency, the saga's leg steps and handlers, the core client) and the operations around it.
RELIABILITY_FILES: dict[str, tuple[str, ...]] = {
    "outbox_engine": ("outbox/models.py", "outbox/services.py", "outbox/relay.py", "outbox/sql.py",
                      "outbox/registry.py", "outbox/tasks.py", "outbox/selectors.py", "outbox/mail.py",
                      "outbox/apps.py", "outbox/__init__.py", "outbox/eventstore/**",
                      "outbox/core_banking/__init__.py", "outbox/core_banking/breaker.py"),
    "outbox_operations": ("outbox/admin.py", "outbox/invariants.py", "outbox/api/**", "outbox/management/**",
                          "transfers/invariants.py", "accounts/invariants.py"),
    "idempotency": ("outbox/request_idempotency.py",),
    "saga_and_handlers": ("transfers/saga.py", "transfers/outbox_handlers.py", "transfers/core_answers.py",
                          "transfers/services/legs.py", "transfers/services/operator.py",
                          "accounts/outbox_handlers.py"),
    "core_client": ("outbox/core_banking/client.py",),
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
CORE_ADAPTERS = ("outbox/core_banking/client.py", "config/core_faults_page.py")


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
        "at the top of resilience/static/code_size.py.",
        f"Reliability machinery {reliability} lines vs business {business}: the outbox, relay, idempotency, saga "
        "steps and the core client remain because core banking is external; internal hops need no code "
        f"({internal_hop_lines} lines in modules that use an HTTP client, other than the core adapters "
        f"{', '.join(CORE_ADAPTERS)}).",
    ]
    return static_result(metrics, notes)
