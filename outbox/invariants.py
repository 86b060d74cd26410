"""Operational checks that several apps contribute to, without knowing each other (flows.md §5.10, §5.11).

- Stuck items (§5.10): `register_stuck_check(name, check)` where `check() -> list[StuckItem]`. Listed by
  `GET /v1/admin/stuck` and logged by the beat `outbox.stuck_detector`.
- Invariants (§5.11): `register_invariant(code, title, check)` where `check() -> list[str]` returns one
  line per violation. `manage.py check_invariants` runs all of them and exits non-zero on any violation.

The outbox registers its own (dead letters; I4 contiguous event versions; I6 one mail per kind and
aggregate); transfers and accounts register theirs in their AppConfig.ready().
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Min

from config.observability import metrics

logger = logging.getLogger("bank.outbox.invariants")


@dataclass(frozen=True)
class StuckItem:
    """Something that should have moved on and did not (severity `warning` or `critical`)."""

    check: str
    aggregate_id: str
    severity: str
    reason: str
    since: dt.datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InvariantResult:
    code: str
    title: str
    violations: list[str]

    @property
    def ok(self) -> bool:
        return not self.violations


_stuck_checks: dict[str, Callable[[], list[StuckItem]]] = {}
_invariants: dict[str, tuple[str, Callable[[], list[str]]]] = {}


def register_stuck_check(name: str, check: Callable[[], list[StuckItem]]) -> None:
    """Add a stuck-item check (idempotent per name)."""
    _stuck_checks[name] = check


def register_invariant(code: str, title: str, check: Callable[[], list[str]]) -> None:
    """Add an invariant check (idempotent per code, e.g. "I4")."""
    _invariants[code] = (title, check)


def stuck_items_list() -> list[StuckItem]:
    """Every stuck item of every registered check, critical first."""
    items = [item for check in _stuck_checks.values() for item in check()]
    return sorted(items, key=lambda item: (item.severity != "critical", item.since or dt.datetime.max.replace(
        tzinfo=dt.UTC)))


def invariants_check(*, codes: set[str] | None = None) -> list[InvariantResult]:
    """Run the registered invariant checks (all, or the given codes) in code order; each result is counted in
    /metrics (`bank_invariant_checks_total{code, result}`)."""
    results = [InvariantResult(code=code, title=title, violations=check())
               for code, (title, check) in sorted(_invariants.items()) if codes is None or code in codes]
    for result in results:
        metrics.invariant_check_observe(code=result.code, ok=result.ok)
    return results


# --- the outbox's own checks ---------------------------------------------------------------------------


def dead_letters_stuck() -> list[StuckItem]:
    """Every dead-lettered row (§5.10: alert on any); a dead refund is critical (money in suspense, R28)."""
    from outbox.models import OutboxMessage, OutboxStatus

    rows = OutboxMessage.objects.filter(status=OutboxStatus.FAILED).order_by("updated_at")[:500]
    return [StuckItem(check="outbox.dead_letter", aggregate_id=row.aggregate_id,
                      severity="critical" if row.kind == "refund" else "warning",
                      reason=f"{row.kind} dead-lettered after {row.retry_count} attempts: {row.error_message[:200]}",
                      since=row.updated_at, detail={"messageId": row.id, "key": row.key})
            for row in rows]


def event_versions_contiguous() -> list[str]:
    """I4: per aggregate, versions run 1..n without gaps or repeats."""
    from outbox.eventstore.models import Event

    bad = (Event.objects.values("aggregate_id").annotate(n=Count("id"), low=Min("version"), high=Max("version"))
           .exclude(low=1, high=F("n")).values_list("aggregate_id", "low", "high", "n")[:100])
    return [f"{aggregate_id}: versions {low}..{high} in {n} events" for aggregate_id, low, high, n in bad]


def events_refuse_update_and_delete() -> list[str]:
    """I4 (second half): on PostgreSQL the trigger makes UPDATE/DELETE of events fail."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'outbox_event'::regclass AND NOT tgisinternal")
        (triggers,) = cursor.fetchone()
    return [] if triggers else ["outbox_event has no append-only trigger"]


def one_mail_per_kind_and_aggregate() -> list[str]:
    """I6: at most one sent mail per (kind, aggregate)."""
    from outbox.models import SentMail

    doubles = (SentMail.objects.values("kind", "aggregate_id").annotate(n=Count("id")).filter(n__gt=1)
               .values_list("kind", "aggregate_id", "n")[:100])
    return [f"{kind} {aggregate_id}: {n} mails" for kind, aggregate_id, n in doubles]


def register_outbox_checks() -> None:
    """Called from OutboxConfig.ready()."""
    register_stuck_check("outbox.dead_letters", dead_letters_stuck)
    register_invariant("I4", "event versions contiguous per aggregate; events append-only",
                       lambda: event_versions_contiguous() + events_refuse_update_and_delete())
    register_invariant("I6", "at most one sent mail per (kind, aggregate)", one_mail_per_kind_and_aggregate)
