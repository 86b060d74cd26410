"""Event store (append-only events, global position, snapshots) and the transactional outbox (R2–R4).

The tables know nothing about transfers or accounts: aggregate kinds, event types, message kinds and
their handlers are declared by the owning apps through outbox/registry.py.
"""
from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

# The event store's tables belong to this app too; importing them here registers them with Django.
from outbox.eventstore.models import AppendOnlyError, Event, EventPosition, Snapshot  # noqa: F401


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    PROCESSING = "processing", _("processing")
    COMPLETED = "completed", _("completed")
    FAILED = "failed", _("failed (dead letter)")


class OutboxMessage(models.Model):
    """One unit of work for the relay (R3), inserted in the transaction that committed its cause.

    `status` moves only through outbox/services.py and outbox/relay.py. `failed` means dead-lettered
    (terminal until an operator replays it); `needs_attention` is the alert flag shown in admin.
    """

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(_("key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=64)
    queue = models.CharField(_("queue"), max_length=16)
    aggregate_id = models.CharField(_("aggregate id"), max_length=128)
    event_version = models.PositiveIntegerField(_("event version"), null=True, blank=True)
    event_type = models.CharField(_("event type"), max_length=100, blank=True, default="")
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    retry_count = models.PositiveIntegerField(_("attempts so far"), default=0)
    max_attempts = models.PositiveIntegerField(_("maximum attempts"))
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_default=Now())
    locked_by = models.CharField(_("locked by"), max_length=128, null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    error_message = models.TextField(_("last error"), blank=True, default="")
    progress = models.JSONField(_("progress"), default=dict)
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    # The trace context (W3C `traceparent`) of the transaction that enqueued the row, so the relay's delivery
    # continues the customer's request trace (config/observability/tracing.py); null while tracing is off.
    trace_context = models.JSONField(_("trace context"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=Now())
    updated_at = models.DateTimeField(_("updated at"), db_default=Now())
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        db_table = "outbox_message"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_message_status_valid"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="outbox_message_max_attempts_gte_1"),
        ]
        indexes = [
            # Claim: due pending rows of one queue, oldest first.
            models.Index(fields=("queue", "next_attempt_at", "id"), condition=Q(status="pending"),
                         name="outbox_msg_claim_idx"),
            # Per-aggregate ordering: "is there an earlier open row of this aggregate in this queue?"
            models.Index(fields=("aggregate_id", "queue", "id"), condition=Q(status__in=("pending", "processing")),
                         name="outbox_msg_open_aggregate_idx"),
            # Lease reclaim: processing rows whose lease has passed.
            models.Index(fields=("locked_until",), condition=Q(status="processing"), name="outbox_msg_lease_idx"),
            # Dead letters (admin list, alerts).
            models.Index(fields=("id",), condition=Q(status="failed"), name="outbox_msg_dead_idx"),
            # Throughput of the last minute.
            models.Index(fields=("processed_at",), condition=Q(processed_at__isnull=False),
                         name="outbox_msg_processed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class AttemptOutcome(models.TextChoices):
    SUCCESS = "success", _("success")
    RETRYABLE = "retryable", _("retryable")
    DEFINITIVE = "definitive", _("definitive failure")
    AMBIGUOUS = "ambiguous", _("ambiguous")
    LEASE_EXPIRED = "lease_expired", _("lease expired")
    REPLAYED = "replayed", _("replayed by operator")
    RESOLVED = "resolved", _("resolved by operator")


class OutboxAttempt(models.Model):
    """Append-only log of what happened to a message (R4): one row per settled attempt or operator action."""

    id = models.BigAutoField(primary_key=True)
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempts",
                                verbose_name=_("outbox message"))
    attempt_no = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), db_default=Now())
    outcome = models.CharField(_("outcome"), max_length=16, choices=AttemptOutcome.choices)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    worker = models.CharField(_("worker"), max_length=128, blank=True, default="")
    actor = models.CharField(_("actor"), max_length=150, blank=True, default="")

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        db_table = "outbox_attempt"
        ordering = ("id",)

    def __str__(self) -> str:
        return f"attempt {self.attempt_no} of message {self.message_id}: {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The attempt log is append-only.")
        super().save(*args, **kwargs)


class SentMail(models.Model):
    """One customer mail that left the bank (R36): keyed by the outbox row that carried it, so a second
    delivery of the same row finds it and sends nothing. The body is not stored (it may hold credentials)."""

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(_("key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=64)
    aggregate_id = models.CharField(_("aggregate id"), max_length=128)
    message_id = models.CharField(_("Message-ID"), max_length=255)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255)
    sent_at = models.DateTimeField(_("sent at"), db_default=Now())

    class Meta:
        verbose_name = _("sent mail")
        verbose_name_plural = _("sent mails")
        indexes = [models.Index(fields=["aggregate_id"], name="sentmail_aggregate")]

    def __str__(self) -> str:
        return f"{self.key} → {self.recipient}"


class IdempotentRequest(models.Model):
    """The first answer to a client request sent with an `Idempotency-Key` (flows.md R30).

    Unique per (scope, owner, key): a repeat with the same body gets the stored answer; the row is written in
    the same transaction as the command's effects, so an answer is stored if and only if its effects are.
    """

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(_("scope"), max_length=64)
    owner = models.CharField(_("owner"), max_length=128)
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=Now())

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["scope", "owner", "key"], name="idempotent_request_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.owner}:{self.key}"
