"""The core-banking mock's own gauge on its /metrics: whether its fault switch has it `down` (what /core/health
reports). Read at scrape time; served by config.observability.views.core_metrics through config/urls_core.py."""
from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from corebanking_mock.faults import fault_core_is_down

logger = logging.getLogger("bank.core_mock.metrics")


class CoreFaultCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        down = GaugeMetricFamily("bank_core_mock_down", "1 while the core mock's fault switch has it down "
                                 "(503 to every API call), else 0.")
        try:
            down.add_metric([], 1 if fault_core_is_down() else 0)
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the mock's database is down
            logger.warning("metrics: fault state unavailable: %s", type(exc).__name__)
            return
        yield down
