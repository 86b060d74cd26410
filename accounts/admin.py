"""Django admin for account opening: review list, read-only detail with the event timeline, decisions.

Approve / reject (with a comment) are admin actions with an intermediate confirmation form; they need the
`accounts.approve_application` permission, call the same services as the API, and write a LogEntry each.
"Retry provisioning" replays a dead-lettered create_account row (outbox_replay). In DEBUG, a staff-only
page lists the mails the file mail backend wrote (`…/application/dev-mails/`).
"""
from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts import selectors, services
from accounts.models import Application, ApplicationStatus
from config.admin_mixins import AsOfAdminMixin, ReadOnlyAdminMixin
from config.audit import actor_for_user
from config.errors import ApplicationError
from outbox.eventstore.selectors import events_for_aggregate

DEV_MAILS_LIMIT = 50


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                              max_length=1000, required=True)


class ProvisioningFailedFilter(admin.SimpleListFilter):
    title = _("provisioning")
    parameter_name = "provisioning"

    def lookups(self, request, model_admin):
        return [("failed", _("failed (needs staff)"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(status=ApplicationStatus.CONFIRMED).exclude(provisioning_error="")
        return queryset


@admin.register(Application)
class ApplicationAdmin(AsOfAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("application_id", "transaction_id", "full_name", "email", "status", "created_at",
                    "provisioning_error_short", "account_number", "login_id")
    list_filter = ("status", ProvisioningFailedFilter, ("created_at", admin.DateFieldListFilter), "account_type")
    search_fields = ("application_id", "transaction_id", "full_name", "kana", "email", "customer_id",
                     "account_number", "login_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("approve_selected", "reject_selected", "retry_provisioning")
    readonly_fields = ("application_id", "transaction_id", "status", "version", "full_name", "kana", "email",
                       "phone_number", "id_type", "id_number", "account_type", "created_at", "updated_at",
                       "confirmed_at", "rejected_at", "completed_at", "reviewed_by", "review_comment",
                       "customer_id", "account_number", "branch_code", "login_id", "provisioning_error",
                       "receipt_notified_at", "completion_notified_at", "terms_consent", "trace_id",
                       "state_as_of", "event_timeline")
    exclude = ("snapshot",)

    @admin.display(description=_("provisioning error"))
    def provisioning_error_short(self, obj: Application) -> str:
        return obj.provisioning_error[:60]

    @admin.display(description=_("terms of service consent"))
    def terms_consent(self, obj: Application) -> str:
        """From the creation event's snapshot: the web form records the version and time; the API cannot."""
        consent = (obj.snapshot or {}).get("termsConsent")
        if not consent:
            return str(_("not recorded (filed through the API: the client shows its own terms box)"))
        return f"{consent.get('termsVersion')} — {consent.get('acceptedAt')}"

    @admin.display(description=_("state as of"))
    def state_as_of(self, obj: Application) -> str:
        """The application folded from its events up to `?as_of=` (the form above the page); now without it."""
        as_of = getattr(obj, "as_of_view", None)
        history = selectors.application_history(application_id=obj.application_id, as_of=as_of)
        when = timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M:%S") if as_of else _("now")
        if not history.state:
            return format_html('<span data-testid="state-as-of">{}: {}</span>', when, _("not submitted yet"))
        return format_html('<span data-testid="state-as-of">{}: v{} {}</span>', when, history.version,
                           history.state.get("status"))

    @admin.display(description=_("trace id"))
    def trace_id(self, obj: Application) -> str:
        """The trace of the submitting request, continued by the receipt mail and the provisioning calls
        (docs/operations.md §10.3)."""
        return selectors.application_trace_id(application_id=obj.application_id) or "- (tracing was off)"

    @admin.display(description=_("event timeline"))
    def event_timeline(self, obj: Application) -> str:
        as_of = getattr(obj, "as_of_view", None)
        rows = format_html_join("", "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (event.version, event.recorded_at.isoformat(timespec="milliseconds"), event.type, event.status,
             event.metadata.get("actor", ""), event.metadata.get("comment") or "")
            for event in events_for_aggregate(aggregate_id=obj.application_id, as_of=as_of)))
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
                           "</thead><tbody>{}</tbody></table>", _("version"), _("recorded at"), _("event type"),
                           _("status"), _("actor"), _("comment"), rows)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.approve_application")

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """The detail page, with approve/reject buttons for staff allowed to decide (see change_form.html) and
        the "as of" form (AsOfAdminMixin)."""
        extra_context = {**(extra_context or {}), "can_decide": self.has_approve_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide(self, request: HttpRequest, queryset, *, approve: bool):
        verb = _("approve") if approve else _("reject")
        if "apply" in request.POST:
            form = DecisionForm(request.POST)
            if form.is_valid():
                comment = form.cleaned_data["comment"]
                done = 0
                for application in queryset.order_by("id"):
                    try:
                        decide = services.application_approve if approve else services.application_reject
                        decided = decide(transaction_id=application.transaction_id, actor=actor_for_user(request.user),
                                         reviewer=request.user.get_username(), comment=comment)
                    except ApplicationError as exc:
                        current = exc.extra.get("currentStatus", "")
                        self.message_user(request, f"{application.application_id}: {exc.message} {current}".strip(),
                                          messages.ERROR)
                        continue
                    self.log_change(request, decided, f"{decided.status}: {comment}")
                    done += 1
                if done:
                    summary = _("%(count)d application(s): %(verb)s ✓") % {"count": done, "verb": verb}
                    self.message_user(request, summary, messages.SUCCESS)
                return None
        else:
            form = DecisionForm()
        return TemplateResponse(request, "admin/accounts/application/decision.html", {
            **self.admin_site.each_context(request), "title": verb, "verb": verb, "form": form,
            "applications": queryset, "action": request.POST.get("action"), "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    @admin.action(description=_("Approve selected applications (with a comment)"), permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset):
        return self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject selected applications (with a comment)"), permissions=["approve"])
    def reject_selected(self, request: HttpRequest, queryset):
        return self._decide(request, queryset, approve=False)

    @admin.action(description=_("Retry failed provisioning"), permissions=["approve"])
    def retry_provisioning(self, request: HttpRequest, queryset):
        for application in queryset.order_by("id"):
            try:
                services.application_provisioning_retry(application_id=application.application_id,
                                                        actor=actor_for_user(request.user))
            except ApplicationError as exc:
                self.message_user(request, f"{application.application_id}: {exc.message}", messages.ERROR)
                continue
            self.log_change(request, application, "provisioning retried")
            self.message_user(request, f"{application.application_id}: {_('provisioning retried')}", messages.SUCCESS)

    # --- DEBUG: mails written by the file backend ----------------------------------------------------

    def get_urls(self):
        return [path("dev-mails/", self.admin_site.admin_view(self.dev_mails_view), name="accounts_dev_mails"),
                *super().get_urls()]

    def dev_mails_view(self, request: HttpRequest) -> HttpResponse:
        """Staff only, DEBUG only (404 otherwise): the newest mails in EMAIL_FILE_PATH, decoded."""
        if not settings.DEBUG or not request.user.is_staff:
            raise Http404("not available")
        return render(request, "admin/accounts/application/dev_mails.html", {
            **self.admin_site.each_context(request), "title": _("Development mails"),
            "mails": dev_mails_read(Path(settings.EMAIL_FILE_PATH)), "mail_dir": settings.EMAIL_FILE_PATH})


def dev_mails_read(directory: Path, *, limit: int = DEV_MAILS_LIMIT) -> list[dict]:
    """Parse the file backend's `.log` files (one or more messages each, separated by a dashes line)."""
    if not directory.is_dir():
        return []
    mails: list[dict] = []
    files = sorted(directory.glob("*.log"), key=lambda item: item.stat().st_mtime, reverse=True)
    for file in files[:limit]:
        modified = dt.datetime.fromtimestamp(file.stat().st_mtime, tz=dt.UTC)
        for chunk in file.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            parsed = message_from_bytes(chunk.lstrip(), policy=policy.default)
            body = parsed.get_body(preferencelist=("plain",))
            mails.append({"file": file.name, "modified": modified, "to": parsed.get("To", ""),
                          "subject": parsed.get("Subject", ""),
                          "body": body.get_content() if body is not None else ""})
    return mails[:limit]
