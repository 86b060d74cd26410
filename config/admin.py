"""Shared Django-admin building blocks."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _


class ReadOnlyAdminMixin:
    """View-only admin: no add, change or delete (append-only data, read models, rows owned by a service)."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def actor_for_user(user) -> str:
    """The audit actor string for a staff user (R12: the admin user id)."""
    return f"admin:{user.pk}"


AS_OF_PARAMETER = "as_of"


def as_of_parse(raw: str | None) -> dt.datetime | None:
    """`?as_of=` of a staff page: ISO 8601; a time without a zone is Asia/Tokyo (the admin's time zone, and what a
    browser's datetime-local input sends). None when absent; ValueError when unreadable."""
    if not raw:
        return None
    parsed = parse_datetime(raw.strip().replace(" ", "+")) if "\x00" not in raw else None
    if parsed is None:
        raise ValueError(raw)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class AsOfAdminMixin:
    """Change pages that show a record "as of" a past time (`?as_of=`; a form above the page sets it).

    The parsed time rides on the object of this request (`obj.as_of_view`), never on the shared ModelAdmin,
    so concurrent requests cannot see each other's time.
    """

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            try:
                obj.as_of_view = as_of_parse(request.GET.get(AS_OF_PARAMETER))
            except ValueError:
                obj.as_of_view = None
                messages.error(request, _("The time could not be read; showing the current state."))
        return obj

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = {**(extra_context or {}), "as_of_parameter": AS_OF_PARAMETER,
                         "as_of_value": request.GET.get(AS_OF_PARAMETER, "")}
        return super().change_view(request, object_id, form_url, extra_context)
