"""Staff-only test tool in the Django admin: the core-banking mock's fault injection (flows.md §6.0).

Reads and changes the mock's settings over HTTP (`/core/_faults`, header `X-Control-Key`); the mock is a
separate process, so nothing here imports corebanking_mock. The page exists only when
CORE_MOCK_FAULTS_ENABLED is on (404 otherwise) and is reached through `admin.site.admin_view` (staff login).
"""
from __future__ import annotations

from typing import Any

import httpx
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

GROUPS = ("all", "customers", "accounts", "transactions", "idempotency")
MODES = ("up", "down", "slow", "flaky", "blackhole_after_apply")
ACCOUNT_STATUSES = ("ACTIVE", "INACTIVE", "FROZEN")


class FaultForm(forms.Form):
    group = forms.ChoiceField(label=_("group"), choices=[(g, g) for g in GROUPS], initial="all")
    mode = forms.ChoiceField(label=_("mode"), choices=[(m, m) for m in MODES], initial="down")
    latency_ms = forms.IntegerField(label=_("latency (ms)"), min_value=0, max_value=600_000, required=False)
    error_rate = forms.FloatField(label=_("error rate (0–1)"), min_value=0, max_value=1, required=False)
    duration_s = forms.FloatField(label=_("duration (s, empty = until reset)"), min_value=0.001,
                                  max_value=86_400, required=False)

    def payload(self) -> dict[str, Any]:
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}


class AccountStatusForm(forms.Form):
    account_id = forms.RegexField(label=_("account number"), regex=r"^[0-9]{10}$", max_length=10)
    status = forms.ChoiceField(label=_("status"), choices=[(s, s) for s in ACCOUNT_STATUSES], initial="FROZEN")


def _control(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int | None, Any]:
    """Call the mock's control API; (status, JSON body) or (None, error text) when it is unreachable."""
    url = settings.CORE_BANKING_URL.rstrip("/") + path
    try:
        response = httpx.request(method, url, json=body, timeout=settings.WEB_CORE_CONTROL_TIMEOUT,
                                 headers={"X-Control-Key": settings.CORE_MOCK_CONTROL_KEY})
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:500]


def core_faults_view(request: HttpRequest) -> HttpResponse:
    """GET: current fault settings; POST `action` = set | reset | account: change them, then redirect."""
    if not settings.CORE_MOCK_FAULTS_ENABLED:
        raise Http404("fault injection is disabled (CORE_MOCK_FAULTS_ENABLED)")
    fault_form, account_form = FaultForm(), AccountStatusForm()
    if request.method == "POST":
        action = request.POST.get("action")
        status, answer = None, None
        if action == "set":
            fault_form = FaultForm(request.POST)
            if fault_form.is_valid():
                status, answer = _control("POST", "/core/_faults", fault_form.payload())
        elif action == "reset":
            status, answer = _control("POST", "/core/_faults/reset", {})
        elif action == "account":
            account_form = AccountStatusForm(request.POST)
            if account_form.is_valid():
                status, answer = _control("POST", f"/core/_faults/accounts/{account_form.cleaned_data['account_id']}",
                                          {"status": account_form.cleaned_data["status"]})
        if status == 200:
            messages.success(request, _("Core mock updated."))
            return redirect("core-faults")
        if status is not None or answer is not None:
            messages.error(request, f"{_('Core mock refused the change')}: {status or ''} {answer}")
    status, current = _control("GET", "/core/_faults")
    return TemplateResponse(request, "admin/core_faults.html", {
        **admin.site.each_context(request), "title": _("Core-banking mock: fault injection (test tool)"),
        "fault_form": fault_form, "account_form": account_form, "core_url": settings.CORE_BANKING_URL,
        "reachable": status == 200, "current": current, "current_status": status,
    })
