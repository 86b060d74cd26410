"""A circuit breaker around core banking, one per relay worker process, so an outage costs no attempts.

After `OUTBOX_BREAKER_FAILURES` consecutive deliveries of the `core` queue that got no usable answer (a
connection failure, a timeout, or 502/503/504: core unreachable or down), the breaker opens: for
`OUTBOX_BREAKER_OPEN_SECONDS` the relay delivers no `core` row and puts each one back to `pending` without
consuming an attempt (Delivery.defer). When the time is up, the next delivery first probes
`GET /core/health`. Healthy: the breaker closes and every waiting `core` row is made due now
(`outbox_pull_forward`), so the backlog drains at once instead of after each row's backoff. Still down: it
stays open for another period.

Only deliveries with no answer count. A 500 (a bug or a flaky call) or a business refusal resets the count:
core answered. Each worker process learns on its own (a few wasted calls per process, no shared state to lose).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from config.observability import metrics
from outbox.registry import Delivery, DeliveryOutcome

logger = logging.getLogger("bank.outbox.core_banking.breaker")

UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


def core_unavailable(delivery: Delivery) -> bool:
    """A `core` delivery that got no usable answer: retry without an HTTP status (connection failure or
    timeout) or with 502/503/504."""
    return delivery.outcome is DeliveryOutcome.RETRY and (
        delivery.http_status is None or delivery.http_status in UNAVAILABLE_STATUSES)


@dataclass
class CircuitBreaker:
    failures_to_open: int
    open_seconds: float
    probe: Callable[[], bool]
    on_recovery: Callable[[], None]
    clock: Callable[[], float] = time.monotonic
    consecutive_failures: int = 0
    open_until: float | None = None

    @property
    def is_open(self) -> bool:
        return self.open_until is not None

    def wait_seconds(self) -> float:
        """0 when a delivery may go ahead; otherwise how long the breaker stays open. Probes core once the
        open period is over (half-open) and closes on a healthy answer."""
        if self.open_until is None:
            return 0.0
        remaining = self.open_until - self.clock()
        if remaining > 0:
            return remaining
        if self.probe():
            logger.warning("core circuit closed: core answers again; waiting core rows made due now")
            self.open_until, self.consecutive_failures = None, 0
            metrics.core_circuit_set(is_open=False)
            self.on_recovery()
            return 0.0
        self.open_until = self.clock() + self.open_seconds
        logger.warning("core circuit stays open: health probe failed; next probe in %.0f s", self.open_seconds)
        return self.open_seconds

    def record(self, delivery: Delivery) -> None:
        """Count a delivery's result: consecutive unavailable answers open the breaker, anything else resets."""
        if not core_unavailable(delivery):
            self.consecutive_failures = 0
            return
        self.consecutive_failures += 1
        if self.open_until is None and self.consecutive_failures >= self.failures_to_open:
            self.open_until = self.clock() + self.open_seconds
            metrics.core_circuit_set(is_open=True, opened=True)
            logger.warning("core circuit opened after %s consecutive failures (%s); core rows deferred for %.0f s",
                           self.consecutive_failures, delivery.error or "no answer", self.open_seconds)


def _core_healthy() -> bool:
    from outbox.core_banking import client as core_client

    return core_client.health().ok


def _pull_core_rows_forward() -> None:
    from outbox.services import outbox_pull_forward

    count = outbox_pull_forward(queue=settings.OUTBOX_CORE_QUEUE)
    logger.info("core circuit closed: %s waiting row(s) made due", count)


_breaker: CircuitBreaker | None = None


def core_breaker() -> CircuitBreaker | None:
    """This process's breaker for the `core` queue; None when OUTBOX_BREAKER_FAILURES is 0 (disabled)."""
    global _breaker
    if settings.OUTBOX_BREAKER_FAILURES <= 0:
        return None
    if _breaker is None or (_breaker.failures_to_open, _breaker.open_seconds) != (
            settings.OUTBOX_BREAKER_FAILURES, settings.OUTBOX_BREAKER_OPEN_SECONDS):
        _breaker = CircuitBreaker(failures_to_open=settings.OUTBOX_BREAKER_FAILURES,
                                  open_seconds=settings.OUTBOX_BREAKER_OPEN_SECONDS,
                                  probe=_core_healthy, on_recovery=_pull_core_rows_forward)
    return _breaker


def core_breaker_reset() -> None:
    """Forget this process's breaker state (tests)."""
    global _breaker
    _breaker = None
    metrics.core_circuit_set(is_open=False)
