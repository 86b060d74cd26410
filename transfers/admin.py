"""Read-only Django admin for transfers: list with filters (status, age, needs attention), the event
timeline inline on the change page, and an "as of" view (`?as_of=<ISO time>` on the change page)."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.admin_mixins import AsOfAdminMixin, ReadOnlyAdminMixin
from outbox.eventstore.selectors import aggregate_load, events_for_aggregate
from outbox.selectors import outbox_trace_id_for_aggregate
from transfers.models import Transfer, TransferOperatorAction


class AgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("5m", _("older than 5 minutes")), ("1h", _("older than 1 hour")), ("1d", _("older than 1 day"))]

    def queryset(self, request, queryset):
        spans = {"5m": dt.timedelta(minutes=5), "1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1)}
        if self.value() in spans:
            return queryset.filter(created_at__lt=timezone.now() - spans[self.value()])
        return queryset


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Not terminal past the stuck threshold (§5.10)."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", _("yes"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            cutoff = timezone.now() - dt.timedelta(seconds=settings.TRANSFER_STUCK_AFTER_SECONDS)
            return queryset.filter(terminal=False, created_at__lt=cutoff)
        return queryset


@admin.register(Transfer)
class TransferAdmin(AsOfAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("transaction_id", "status", "leg", "phase", "terminal", "amount", "source_account_id",
                    "target_account_id", "created_at", "updated_at")
    list_filter = ("status", "terminal", "phase", AgeFilter, NeedsAttentionFilter)
    search_fields = ("=transaction_id", "=source_account_id", "=target_account_id")
    readonly_fields = ("timeline", "state_as_of", "trace_id")
    date_hierarchy = "created_at"

    def get_fields(self, request, obj=None):
        return ["transaction_id", "status", "leg", "phase", "version", "terminal", "amount", "source_account_id",
                "target_account_id", "description", "customer_id", "created_at", "updated_at", "trace_id",
                "state_as_of", "timeline"]

    @admin.display(description=_("trace id"))
    def trace_id(self, obj: Transfer) -> str:
        """The trace of the request that accepted the transfer: every span and log line of the transfer (web,
        relay, core, mail) carries it (docs/operations.md §10.3)."""
        return outbox_trace_id_for_aggregate(aggregate_id=obj.aggregate_id) or "- (tracing was off)"

    @admin.display(description=_("state as of"))
    def state_as_of(self, obj: Transfer) -> str:
        as_of = getattr(obj, "as_of_view", None)
        loaded = aggregate_load(aggregate_id=obj.aggregate_id, as_of=as_of)
        if loaded is None:
            return _("no events yet")
        state = loaded.state
        return f"v{loaded.version}: {state['status']} / {state['leg'] or '-'} ({state['phase']})"

    @admin.display(description=_("event timeline"))
    def timeline(self, obj: Transfer) -> str:
        as_of = getattr(obj, "as_of_view", None)
        rows = format_html_join("", "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (event.version, timezone.localtime(event.recorded_at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], event.type,
             event.status, event.leg or "", event.metadata.get("actor", ""))
            for event in events_for_aggregate(aggregate_id=obj.aggregate_id, as_of=as_of)))
        return format_html("<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
                           "{}</table>",
                           _("version"), _("recorded at"), _("event type"), _("status"), _("leg"), _("actor"), rows)


@admin.register(TransferOperatorAction)
class TransferOperatorActionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "transaction_id", "action", "outcome", "actor", "phase_before", "phase_after")
    list_filter = ("action", "outcome")
    search_fields = ("=transaction_id", "actor")
