"""The harness's fault switches, an app loaded only by resilience/settings.py (the settings of every process of a
resilience run), never by the product's settings: the product's `resilience` app (resilience/apps.py) only
provides the `manage.py resilience` command.

It makes two components switchable through flag files in `<RES_FLAG_DIR>` (every process of the harness reads
the same folder, so the harness flips them without a restart):

- E3 `mail_bug`: the `notify_transfer_completed` mail handler raises before sending (a programming error in
  that handler only);
- E9 `create_account_stopped`: the `create_account` consumer does not run (each claimed row is deferred
  back to pending without using an attempt), as if its consumer were stopped.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.apps import AppConfig

MAIL_BUG_FLAG = "mail_bug"
CREATE_ACCOUNT_STOPPED_FLAG = "create_account_stopped"


class InjectedBugError(RuntimeError):
    """The bug E3 injects into the transfer-completed mail handler."""


def flag_path(name: str) -> Path | None:
    folder = os.environ.get("RES_FLAG_DIR")
    return Path(folder) / name if folder else None


def flag_is_set(name: str) -> bool:
    path = flag_path(name)
    return path is not None and path.exists()


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
        from outbox import registry
        from transfers import events as transfers_events

        for kind, flag, mode in ((transfers_events.KIND_MAIL_COMPLETED, MAIL_BUG_FLAG, "raise"),
                                 (accounts_events.KIND_CREATE_ACCOUNT, CREATE_ACCOUNT_STOPPED_FLAG, "defer")):
            original = registry.handler_get(kind).handler
            if not isinstance(original, SwitchableHandler):
                registry.unregister_handler(kind)
                registry.register_handler(kind, SwitchableHandler(original, flag, mode))
