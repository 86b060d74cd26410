"""What every static experiment shares: the repository, the project's packages, Django set-up outside manage.py,
the import graph and the result shape `{"metrics": {...}, "notes": [...]}`.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from resilience.environment import REPO_ROOT

BUSINESS_APPS = ("accounts", "transfers", "balance", "auth_app")
PROJECT_APPS = (*BUSINESS_APPS, "outbox", "corebanking_mock")
# E7 counts import edges between these packages (business apps, the outbox engine and the core mock).
EDGE_PACKAGES = PROJECT_APPS


def static_result(metrics: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    return {"metrics": metrics, "notes": notes}


def repo_on_path_ensure() -> None:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def django_ensure() -> None:
    """Set Django up when called outside manage.py (tests and the harness already have it)."""
    from django.apps import apps

    if apps.ready:
        return
    repo_on_path_ensure()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def contracts_config() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def import_graph(*packages: str):
    """The grimp import graph of `packages` (default: import-linter's root packages)."""
    import grimp

    repo_on_path_ensure()
    names = packages or tuple(contracts_config()["root_packages"])
    return grimp.build_graph(*names, cache_dir=None)


def top_package(module: str) -> str:
    return module.split(".", 1)[0]
