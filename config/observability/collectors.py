"""Gauges read from the database when /metrics is scraped (bank web process only): the outbox backlog per
queue and state with the oldest pending row's age, and applications by status. Read at scrape time rather than
kept in process memory, so every web worker reports the same truth and a restart loses nothing."""
from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger("bank.metrics")


class DatabaseCollector(Collector):
    """Collects the database-derived gauges; a failing query drops them and sets `bank_metrics_database_up` 0."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from accounts.selectors import application_count_by_status
        from outbox.selectors import outbox_backlog_by_queue

        up = GaugeMetricFamily("bank_metrics_database_up", "1 when the scrape could read the database gauges.")
        try:
            backlog = outbox_backlog_by_queue()
            applications = application_count_by_status()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            logger.warning("metrics: database gauges unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        messages = GaugeMetricFamily("bank_outbox_messages", "Open outbox rows by queue and state "
                                     "(pending, in_flight, dead).", labels=["queue", "state"])
        oldest = GaugeMetricFamily("bank_outbox_oldest_pending_age_seconds",
                                   "Age of the oldest pending outbox row by queue (0 when none is pending).",
                                   labels=["queue"])
        for queue in backlog:
            messages.add_metric([queue.queue, "pending"], queue.pending)
            messages.add_metric([queue.queue, "in_flight"], queue.in_flight)
            messages.add_metric([queue.queue, "dead"], queue.dead)
            oldest.add_metric([queue.queue], queue.oldest_pending_age_seconds)
        yield messages
        yield oldest

        by_status = GaugeMetricFamily("bank_applications", "Account-opening applications by status.",
                                      labels=["status"])
        for status, count in sorted(applications.items()):
            by_status.add_metric([status], count)
        yield by_status
