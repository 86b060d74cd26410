"""Shared Django-admin building blocks."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.inputs import aware_datetime_parse


class ChangelistFilterGuardMixin:
    """A list whose URL filters cannot be evaluated answers with a message, not a traceback.

    Django turns most bad list parameters into its `?e=1` page, but not a date lookup that is out of range
    when the query is built (`?created_at__year=99999`) or a date-hierarchy day whose next day overflows
    (`?created_at__year=9999&created_at__month=12&created_at__day=31`): those raised ValueError/OverflowError.
    """

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        try:
            response = super().changelist_view(request, extra_context)  # type: ignore[misc]
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()  # the date-hierarchy links are computed while rendering
            return response
        except (ValueError, OverflowError):
            messages.error(request, _("The list filter in the address is not a valid date or number; "
                                      "showing the list without it."))
            return redirect(request.path)


class ReadOnlyAdminMixin(ChangelistFilterGuardMixin):
    """View-only admin: no add, change or delete (append-only data, read models, rows owned by a service)."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False




AS_OF_PARAMETER = "as_of"


def as_of_parse(raw: str | None) -> dt.datetime | None:
    """`?as_of=` of a staff page: ISO 8601; a time without a zone is Asia/Tokyo (the admin's time zone, and what a
    browser's datetime-local input sends). None when absent; ValueError when unreadable, impossible or out of
    range (config.inputs.aware_datetime_parse)."""
    if not raw:
        return None
    return aware_datetime_parse(raw, naive_zone=timezone.get_current_timezone())


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
