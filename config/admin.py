"""Shared Django-admin building blocks."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _


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


def actor_for_user(user) -> str:
    """The audit actor string for a staff user (R12: the admin user id)."""
    return f"admin:{user.pk}"
