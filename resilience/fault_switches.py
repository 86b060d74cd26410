"""The harness's fault switches, an app loaded only by resilience/settings.py (the settings of every process of a
resilience run), never by the product's settings: the product's `resilience` app (resilience/apps.py) only
provides the `manage.py resilience` command.

It makes two components switchable through flag files in `<RES_FLAG_DIR>` (every process of the harness reads
the same folder, so the harness flips them without a restart):

- E3 `mail_bug`: the `notify_transfer_completed` mail handler raises before sending (a programming error in
  that handler only);
- E9 `create_account_stopped`: the `create_account` consumer does not run (each claimed row is deferred
  back to pending without using an attempt), as if its consumer were stopped;
- E19 `cpu_hog`: the account-opening handler (`POST /v1/api/accounts`, ApplicationCreateApi.post) burns the
  flag file's number of milliseconds of CPU before handling the request (a CPU-bound bug in one module's code).
"""
from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

from django.apps import AppConfig

MAIL_BUG_FLAG = "mail_bug"
CREATE_ACCOUNT_STOPPED_FLAG = "create_account_stopped"
CPU_HOG_FLAG = "cpu_hog"
CPU_HOG_DEFAULT_MS = 2500


class InjectedBugError(RuntimeError):
    """The bug E3 injects into the transfer-completed mail handler."""


def flag_path(name: str) -> Path | None:
    folder = os.environ.get("RES_FLAG_DIR")
    return Path(folder) / name if folder else None


def flag_is_set(name: str) -> bool:
    path = flag_path(name)
    return path is not None and path.exists()


def cpu_burn(milliseconds: float) -> int:
    """Busy-loop in pure Python (holding the GIL, as CPU-bound handler code does) until this thread has used
    `milliseconds` of CPU time; returns the loop count."""
    deadline = time.thread_time() + milliseconds / 1000
    count = 0
    while time.thread_time() < deadline:
        count += sum(range(200)) & 1 or 1
    return count


def cpu_hog_ms() -> float:
    """The hog's milliseconds per request while its flag is set (the flag file's content), else 0."""
    path = flag_path(CPU_HOG_FLAG)
    if path is None or not path.exists():
        return 0.0
    try:
        return float(path.read_text().strip() or CPU_HOG_DEFAULT_MS)
    except (OSError, ValueError):
        return float(CPU_HOG_DEFAULT_MS)


def cpu_hog_wrap(view_class: type) -> None:
    """Make `view_class.post` burn CPU first while the E19 flag is set (idempotent)."""
    original = view_class.post
    if getattr(original, "cpu_hog_switch", False):
        return

    @functools.wraps(original)
    def post(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        milliseconds = cpu_hog_ms()
        if milliseconds:
            cpu_burn(milliseconds)
        return original(self, request, *args, **kwargs)

    post.cpu_hog_switch = True  # type: ignore[attr-defined]
    view_class.post = post


class SwitchableHandler:
    """Wraps a registered outbox handler: same queue, attempts and hooks; while the flag is set `deliver`
    raises (`mode="raise"`) or defers the row untouched (`mode="defer"`)."""

    def __init__(self, wrapped: Any, flag: str, mode: str) -> None:
        self._wrapped, self._flag, self._mode = wrapped, flag, mode
        self.queue = wrapped.queue
        self.max_attempts = wrapped.max_attempts
        self.retry_after_lease_expiry = getattr(wrapped, "retry_after_lease_expiry", True)
        for hook in ("on_claim", "on_success", "on_failure", "on_dead_letter"):
            if hasattr(wrapped, hook):
                setattr(self, hook, getattr(wrapped, hook))

    def deliver(self, message: Any) -> Any:
        if flag_is_set(self._flag):
            if self._mode == "defer":
                from outbox.registry import Delivery

                return Delivery.defer(seconds=2.0, error="consumer stopped (E9)")
            raise InjectedBugError(f"injected bug in {type(self._wrapped).__name__} (E3)")
        return self._wrapped.deliver(message)


class FaultSwitchesConfig(AppConfig):
    name = "resilience.fault_switches"
    label = "resilience_fault_switches"

    def ready(self) -> None:
        from accounts import events as accounts_events
        from accounts.api.views import ApplicationCreateApi
        from outbox import registry
        from transfers import events as transfers_events

        for kind, flag, mode in ((transfers_events.KIND_MAIL_COMPLETED, MAIL_BUG_FLAG, "raise"),
                                 (accounts_events.KIND_CREATE_ACCOUNT, CREATE_ACCOUNT_STOPPED_FLAG, "defer")):
            original = registry.handler_get(kind).handler
            if not isinstance(original, SwitchableHandler):
                registry.unregister_handler(kind)
                registry.register_handler(kind, SwitchableHandler(original, flag, mode))
        cpu_hog_wrap(ApplicationCreateApi)
