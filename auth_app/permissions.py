"""DRF permissions for later apps.

- `IsCustomer`: a JWT of an active online-banking customer (`customer_id` set); pair with
  `CustomerJWTAuthentication`. While the login still has to change its temporary password
  (`must_change_password`, flows.md R33 "first login forces a password change") every such route answers
  403 `{"message": "Password change required", "error": {"code": "PASSWORD_CHANGE_REQUIRED", "message": …}}`
  (the query family's shape, so the original SPA shows the nested message). Trade-off: the original SPA has
  no password screen, so a fresh customer using only the SPA can log in but sees "残高の取得に失敗しました"
  until the password is changed with `POST /v1/api/auth/password` or on the server-rendered page of the
  web UI; login, verify, logout and the password route itself do not use this permission and keep working.
- `IsStaffUser`: an active Django staff user, authenticated by a Django session (CSRF enforced) or a
  staff JWT; pair with `STAFF_AUTHENTICATION_CLASSES`. The public API key never grants this (api.md §8).
- `HasPermission("app_label.codename")`: a staff user holding that Django permission.

A failed check with no authenticated user is 401 `{"message":"Unauthorized"}`; an authenticated user
lacking the right gets 403 `{"message":"Forbidden"}` (config.api.exception_handler).
"""
from __future__ import annotations

from rest_framework.permissions import BasePermission

from config.errors import ApplicationError


class PasswordChangeRequired(ApplicationError):
    """A customer route called while the temporary password has not been changed yet (403)."""

    code = "PASSWORD_CHANGE_REQUIRED"
    http_status = 403
    user_message = "パスワードの変更が必要です"

    def __init__(self) -> None:
        super().__init__("Password change required",
                         extra={"error": {"code": self.code, "message": self.user_message}})


def _user(request):
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user


class IsCustomer(BasePermission):
    """The caller is an active customer login (it has a core-banking customer id)."""

    def has_permission(self, request, view) -> bool:
        user = _user(request)
        if not (user and user.customer_id):
            return False
        if user.must_change_password:
            raise PasswordChangeRequired()
        return True


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
