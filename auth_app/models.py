"""Online-banking users and their login sessions."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_public_id() -> str:
    """A fresh wire `userId` (UUID v4 text, as the original's register route issued)."""
    return str(uuid.uuid4())


class User(AbstractUser):
    """A login of the online bank (username = the bank-issued loginId, e.g. `user001`).

    `public_id` is the wire `userId` (`USER001` for the seeded users, a UUID for new ones);
    `customer_id` / `primary_account_id` link the login to its core-banking customer and account.
    """

    public_id = models.CharField(_("user id"), max_length=64, unique=True, null=True, blank=True,
                                 default=new_public_id)
    customer_id = models.CharField(_("customer id"), max_length=32, unique=True, null=True, blank=True)
    primary_account_id = models.CharField(_("primary account id"), max_length=10, blank=True, default="")
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class LoginSession(models.Model):
    """A server-side login session (api.md §4.4): one per successful login, named by the token's `sessionId`.

    A token is honoured only while its session is active and unexpired, so deactivating the row
    (logout, password change) revokes the token at once.
    """

    session_id = models.CharField(_("session id"), max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions",
                             verbose_name=_("user"))
    expires_at = models.DateTimeField(_("expires at"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        indexes = [models.Index(fields=["user", "is_active"], name="auth_session_user_active_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.session_id[:8]}…"
