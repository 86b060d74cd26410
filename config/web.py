"""Shared building blocks of the server-rendered pages: the customer guard and accessible form widgets."""
from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

SESSION_LOGIN_ID = "bank_login_session_id"


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Customer pages: anonymous → login (with `next`); a pending forced password change → the change
    page; a logged-in user without a customer (staff) → 403 page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.must_change_password:
            return redirect("password-change")
        if not user.customer_id:
            return render(request, "web/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


class AccessibleFormMixin:
    """Ties hints and errors to their inputs (`aria-describedby`, `aria-invalid`) for screen readers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs.setdefault("aria-describedby", f"id_{name}-hint")

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                described = [part for part in [widget.attrs.get("aria-describedby", ""), f"id_{name}-error"] if part]
                widget.attrs["aria-describedby"] = " ".join(described)


# Paths whose clients read JSON: the banking API and the schema. Their 404s stay JSON when DEBUG is off.
API_PATH_PREFIXES = ("/v1/", "/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: the site's own page (templates/404.html) for people, a JSON body for API clients."""
    from django.http import JsonResponse
    from django.views import defaults

    if request.path.startswith(API_PATH_PREFIXES):
        return JsonResponse({"message": "Not Found"}, status=404)
    return defaults.page_not_found(request, exception)
