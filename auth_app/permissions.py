"""DRF permissions for later apps.

- `IsCustomer`: a JWT of an active online-banking customer (`customer_id` set); pair with
  `CustomerJWTAuthentication`.
- `IsStaffUser`: an active Django staff user, authenticated by a Django session (CSRF enforced) or a
  staff JWT; pair with `STAFF_AUTHENTICATION_CLASSES`. The public API key never grants this (api.md §8).
- `HasPermission("app_label.codename")`: a staff user holding that Django permission.

A failed check with no authenticated user is 401 `{"message":"Unauthorized"}`; an authenticated user
lacking the right gets 403 `{"message":"Forbidden"}` (config.api.exception_handler).
"""
from __future__ import annotations

from rest_framework.permissions import BasePermission


def _user(request):
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user


class IsCustomer(BasePermission):
    """The caller is an active customer login (it has a core-banking customer id)."""

    def has_permission(self, request, view) -> bool:
        user = _user(request)
        return bool(user and user.customer_id)


class IsStaffUser(BasePermission):
    """The caller is an active Django staff user."""

    def has_permission(self, request, view) -> bool:
        user = _user(request)
        return bool(user and user.is_staff)


def HasPermission(codename: str) -> type[BasePermission]:  # noqa: N802 (reads like a class in permission lists)
    """A permission class requiring an active staff user with the Django permission `app_label.codename`."""

    class _HasPermission(IsStaffUser):
        def has_permission(self, request, view) -> bool:
            return super().has_permission(request, view) and request.user.has_perm(codename)

    _HasPermission.__name__ = f"HasPermission[{codename}]"
    return _HasPermission
