"""Once a second, on its own database connection: outbox backlog (pending / in flight / dead, oldest pending age),
transfer phases of this experiment, mails sent, application states. A failed sample (the database refused
connections in E4) is recorded as such and the connection reopened next second."""
from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any


def sample_once(*, since: dt.datetime) -> dict[str, Any]:
    from django.db.models import Count

    from accounts.models import Application
    from outbox.models import OutboxMessage, OutboxStatus, SentMail
    from outbox.selectors import outbox_stats
    from transfers.models import Transfer

    stats = outbox_stats()
    open_by_queue = dict(OutboxMessage.objects.filter(status__in=(OutboxStatus.PENDING, OutboxStatus.PROCESSING))
                         .values_list("queue").annotate(n=Count("id")))
    phases = dict(Transfer.objects.filter(created_at__gte=since).values_list("phase").annotate(n=Count("id")))
    applications = dict(Application.objects.filter(created_at__gte=since).values_list("status")
                        .annotate(n=Count("id")))
    return {
        "outbox": {"pending": stats.pending, "in_flight": stats.in_flight, "dead": stats.dead,
                   "open": stats.pending + stats.in_flight, "due": stats.due,
                   "oldest_pending_age_s": round(stats.oldest_pending_age_seconds, 1),
                   "open_core": open_by_queue.get("core", 0), "open_notify": open_by_queue.get("notify", 0)},
        "transfers": phases,
        "mails": SentMail.objects.filter(sent_at__gte=since).count(),
        "applications": applications,
    }


class Sampler(threading.Thread):
    """Samples every `interval_s` until stopped; `samples` holds {t (s since t0), ok, …sample_once()}."""

    def __init__(self, *, t0: float, since: dt.datetime, interval_s: float = 1.0) -> None:
        super().__init__(daemon=True, name="resilience-sampler")
        self.t0, self.since, self.interval_s = t0, since, interval_s
        self.samples: list[dict[str, Any]] = []
        self.errors = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self._stop_event.is_set():
                started = time.time()
                try:
                    self.samples.append({"t": round(started - self.t0, 2), "ok": True,
                                         **sample_once(since=self.since)})
                except Exception as exc:  # noqa: BLE001 - a database outage is part of some experiments
                    self.errors += 1
                    self.samples.append({"t": round(started - self.t0, 2), "ok": False, "error": type(exc).__name__})
                    connection.close()
                self._stop_event.wait(max(0.0, self.interval_s - (time.time() - started)))
        finally:
            connection.close()

    def stop(self) -> list[dict[str, Any]]:
        self._stop_event.set()
        self.join(15)
        return self.samples

    def good_samples(self) -> list[dict[str, Any]]:
        return [sample for sample in self.samples if sample["ok"]]
