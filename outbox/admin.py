"""Operator views: events read-only; outbox rows with filters, attempt log and an audited replay action.

No business logic here: the replay action calls `outbox.services.outbox_replay`, the same service as the
API and the management command.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.admin_mixins import ReadOnlyAdminMixin
from config.audit import actor_for_user
from config.errors import ApplicationError
from outbox import selectors, services
from outbox.eventstore.models import Event
from outbox.models import OutboxAttempt, OutboxMessage, OutboxStatus, SentMail


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("position", "aggregate_type", "aggregate_id", "version", "type", "status", "leg", "recorded_at")
    list_filter = ("aggregate_type", "type", "leg")
    search_fields = ("aggregate_id", "=event_id")
    ordering = ("-position",)
    show_full_result_count = False


class AgeFilter(admin.SimpleListFilter):
    """Age of the row (time since it was created)."""

    title = _("age")
    parameter_name = "age"
    BUCKETS = {
        "lt1m": (None, dt.timedelta(minutes=1)),
        "1m-10m": (dt.timedelta(minutes=1), dt.timedelta(minutes=10)),
        "10m-1h": (dt.timedelta(minutes=10), dt.timedelta(hours=1)),
        "gt1h": (dt.timedelta(hours=1), None),
    }

    def lookups(self, request, model_admin):
        return [("lt1m", _("< 1 minute")), ("1m-10m", _("1–10 minutes")), ("10m-1h", _("10–60 minutes")),
                ("gt1h", _("> 1 hour"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        bucket = self.BUCKETS.get(self.value() or "")
        if bucket is None:
            return queryset
        younger_than, older_than = bucket[1], bucket[0]
        now = timezone.now()
        if older_than is not None:
            queryset = queryset.filter(created_at__lte=now - older_than)
        if younger_than is not None:
            queryset = queryset.filter(created_at__gt=now - younger_than)
        return queryset


class OutboxAttemptInline(admin.TabularInline):
    model = OutboxAttempt
    extra = 0
    can_delete = False
    fields = ("attempt_no", "outcome", "http_status", "error", "worker", "actor", "started_at", "finished_at")
    readonly_fields = fields
    ordering = ("id",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "key", "kind", "queue", "status", "attempts", "needs_attention", "next_attempt_at",
                    "created_at", "locked_by", "short_error")
    list_filter = ("status", "kind", "queue", "needs_attention", AgeFilter)
    search_fields = ("=key", "aggregate_id")
    ordering = ("-id",)
    inlines = (OutboxAttemptInline,)
    actions = ("replay_dead_letters",)
    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=_("attempts"))
    def attempts(self, obj: OutboxMessage) -> str:
        return f"{obj.retry_count}/{obj.max_attempts}"

    @admin.display(description=_("error"))
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.error_message[:80]

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    @admin.action(description=_("Replay selected dead letters"), permissions=("replay",))
    def replay_dead_letters(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = actor_for_user(request.user)
        replayed = skipped = 0
        for message_id in queryset.values_list("id", flat=True):
            try:
                message = services.outbox_replay(message_id=message_id, actor=actor)
            except ApplicationError:
                skipped += 1
                continue
            self.log_change(request, message, f"Replayed dead letter {message.key} (actor {actor}).")
            replayed += 1
        self.message_user(request, _("Replayed %(replayed)d message(s); skipped %(skipped)d not dead-lettered.")
                          % {"replayed": replayed, "skipped": skipped},
                          messages.SUCCESS if replayed else messages.WARNING)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "outbox_stats": selectors.outbox_stats(),
                         "failed_status": OutboxStatus.FAILED.value}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(OutboxAttempt)
class OutboxAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "message", "attempt_no", "outcome", "http_status", "worker", "actor", "finished_at")
    list_filter = ("outcome",)
    search_fields = ("=message__key", "worker", "actor")
    list_select_related = ("message",)
    ordering = ("-id",)
    show_full_result_count = False


@admin.register(SentMail)
class SentMailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customer mails that left the bank, one per outbox row (R36); bodies are not stored."""

    list_display = ("sent_at", "kind", "aggregate_id", "recipient", "subject", "key")
    list_filter = ("kind",)
    search_fields = ("key", "aggregate_id", "recipient")
