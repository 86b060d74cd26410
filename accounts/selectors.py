"""Every read of account-opening applications: rows, the event history and the folded state (time travel)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import Application, ApplicationStatus
from outbox.eventstore.models import Event
from outbox.eventstore.selectors import aggregate_load, events_for_aggregate


def application_get(*, application_id: str) -> Application | None:
    """One application row by its `APP-` id, or None."""
    return Application.objects.filter(application_id=application_id).first()


def application_list(*, status: str | None = None) -> QuerySet[Application]:
    """Applications newest first (by submission time), optionally of one status."""
    applications = Application.objects.all()
    if status:
        applications = applications.filter(status=status)
    return applications.order_by("-created_at", "-id")


@dataclass(frozen=True)
class ApplicationHistory:
    """The events of one application up to `as_of` (version order) and the state they fold to."""

    application_id: str
    events: list[Event]
    version: int
    state: dict[str, Any] | None


def application_history(*, application_id: str, as_of: dt.datetime | None = None) -> ApplicationHistory:
    """Events recorded at or before `as_of` (default: all) and the folded state then (R9, R10)."""
    events = events_for_aggregate(aggregate_id=application_id, as_of=as_of)
    loaded = aggregate_load(aggregate_id=application_id, as_of=as_of) if events else None
    return ApplicationHistory(application_id=application_id, events=events,
                              version=loaded.version if loaded else 0, state=loaded.state if loaded else None)


def application_count_by_status() -> dict[str, int]:
    """How many applications are in each status (every status listed, zero included)."""
    from django.db.models import Count

    counts = dict.fromkeys(ApplicationStatus.values, 0)
    for row in Application.objects.values("status").annotate(count=Count("id")):
        counts[row["status"]] = row["count"]
    return counts


def application_trace_id(*, application_id: str) -> str | None:
    """The trace id of the request that submitted the application (from its outbox rows), or None."""
    from outbox.selectors import outbox_trace_id_for_aggregate

    return outbox_trace_id_for_aggregate(aggregate_id=application_id)
