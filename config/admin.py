"""Shared Django-admin building blocks."""
from __future__ import annotations

from django.http import HttpRequest


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
