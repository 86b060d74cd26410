"""Playwright helpers for the browser journeys: Debian's Chromium, a live relay, screenshots.

Screenshots are written only when BANK_SCREENSHOT_DIR names a folder (`make screenshots` sets it to
docs/screenshots/, whose images docs/guide.md shows); without it `shot()` does nothing.
"""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
SCREENSHOT_DIR_VARIABLE = "BANK_SCREENSHOT_DIR"
LOGIN_IN_MAIL = re.compile(r"(?:ログインID|Login ID)\s*:\s*(\S+)")


class RelayThread(threading.Thread):
    """Drains the core and notify outbox queues in a loop, as the Celery relay would, until stopped."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(name="test-relay", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()
        self.running = threading.Event()
        self.running.set()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        from outbox import relay

        try:
            while not self.stopped.is_set():
                if self.running.is_set():
                    try:
                        for queue in ("core", "notify"):
                            relay.drain(queue=queue)
                    except Exception as exc:  # noqa: BLE001 - keep the loop alive, report at teardown
                        self.errors.append(exc)
                self.stopped.wait(self.interval)
        finally:
            connections.close_all()

    def pause(self) -> None:
        self.running.clear()
        time.sleep(self.interval * 3)  # let a pass in progress finish

    def resume(self) -> None:
        self.running.set()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def screenshot_dir() -> Path | None:
    """The folder named by BANK_SCREENSHOT_DIR (relative paths from the project root), or None."""
    value = os.environ.get(SCREENSHOT_DIR_VARIABLE, "").strip()
    if not value:
        return None
    folder = Path(value)
    return folder if folder.is_absolute() else Path(__file__).resolve().parents[2] / folder


def shot(page, name: str) -> None:
    """Save a full-page PNG `<name>.png` when BANK_SCREENSHOT_DIR is set; otherwise do nothing."""
    folder = screenshot_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
