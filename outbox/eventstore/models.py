"""The event store's tables: append-only events with a global position, the SQLite position counter, snapshots.

They belong to the `outbox` app (table names `outbox_*`) and are registered through outbox/models.py. The tables
know nothing about transfers or accounts: aggregate kinds and event types are declared by the owning apps
(outbox/eventstore/registry.py).
"""
from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an append-only row (events, attempt log)."""


class EventPosition(models.Model):
    """Single-row counter that hands out the events' global positions on SQLite.

    There every writer already holds the database's write lock, so `UPDATE … SET value = value + n RETURNING
    value` costs no extra waiting and keeps positions gap-free in commit order. PostgreSQL uses the sequence
    `outbox_event_position_seq` instead (migration 0007): no lock shared by all appenders.
    """

    id = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        db_table = "outbox_event_position"


class Event(models.Model):
    """One immutable domain event of one aggregate (R2, R8). Corrections are new events.

    `position` orders the whole log: unique and increasing per aggregate, but on PostgreSQL neither gap-free nor
    in commit order across aggregates. On PostgreSQL the table also has a `transaction_id` column (xid8, filled by
    the database, not on this model) that lets `outbox.eventstore.selectors.events_after` read the log in commit order.
    """

    id = models.BigAutoField(primary_key=True)
    position = models.BigIntegerField(_("global position"), unique=True, editable=False)
    event_id = models.UUIDField(_("event id"), unique=True, default=uuid.uuid4, editable=False)
    aggregate_type = models.CharField(_("aggregate type"), max_length=64)
    aggregate_id = models.CharField(_("aggregate id"), max_length=128)
    version = models.PositiveIntegerField(_("version"))
    type = models.CharField(_("event type"), max_length=100)
    status = models.CharField(_("status"), max_length=64, blank=True, default="")
    leg = models.CharField(_("leg"), max_length=32, null=True, blank=True)
    data = models.JSONField(_("data"), default=dict)
    metadata = models.JSONField(_("metadata"), default=dict)
    recorded_at = models.DateTimeField(_("recorded at"), db_default=Now())

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        db_table = "outbox_event"
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(fields=("aggregate_id", "version"), name="outbox_event_aggregate_version_uniq"),
            models.CheckConstraint(condition=Q(version__gte=1), name="outbox_event_version_gte_1"),
            models.CheckConstraint(condition=Q(position__gte=1), name="outbox_event_position_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_id} v{self.version} {self.type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Events are immutable; append a correcting event instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Events are immutable and cannot be deleted.")


class Snapshot(models.Model):
    """A cached fold of one aggregate at `version` (optional; loading with or without it gives equal state)."""

    id = models.BigAutoField(primary_key=True)
    aggregate_type = models.CharField(_("aggregate type"), max_length=64)
    aggregate_id = models.CharField(_("aggregate id"), max_length=128)
    version = models.PositiveIntegerField(_("version"))
    state = models.JSONField(_("state"))
    recorded_at = models.DateTimeField(_("recorded at"), db_default=Now())

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        db_table = "outbox_snapshot"
        constraints = [
            models.UniqueConstraint(fields=("aggregate_id", "version"), name="outbox_snapshot_aggregate_version_uniq"),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.aggregate_id} v{self.version}"
