"""DRF throttles (rates from the environment, see config/settings/auth.py).

- `LoginRateThrottle` (scope `login`): per client IP, on the login route.
- `WriteRateThrottle` (scope `write`): per user (or per client IP when anonymous), only on unsafe
  methods; later apps add it to their POST/PUT/PATCH/DELETE views:
  `throttle_classes = [WriteRateThrottle]`.
- `ReadRateThrottle` (scope `read`): per user (or per client IP when anonymous), only on GET/HEAD; on the
  balance and history routes and the staff lists. Its own counter, so a dashboard polling its balance never
  uses up the user's transfers, and a burst of transfers never blocks reading the result.
A throttled call answers 429 `{"message":"Too Many Requests"}` with `Retry-After` (api.md §1.7).
"""
from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from auth_app.client_address import client_ip_address

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _ClientThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # Read the rate at request time (DRF binds THROTTLE_RATES at import); None disables the throttle.
        return (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope)

    def get_ident(self, request) -> str:
        return client_ip_address(request) or "unknown"


class LoginRateThrottle(_ClientThrottle):
    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _PerUserThrottle(_ClientThrottle):
    """Counts per authenticated user, else per client address; only for the methods it applies to."""

    def applies_to(self, method: str) -> bool:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        if not self.applies_to(request.method):
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            ident = f"user-{user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WriteRateThrottle(_PerUserThrottle):
    scope = "write"

    def applies_to(self, method: str) -> bool:
        return method not in SAFE_METHODS


class ReadRateThrottle(_PerUserThrottle):
    scope = "read"

    def applies_to(self, method: str) -> bool:
        # OPTIONS is the CORS preflight, answered before the view; it never counts.
        return method in ("GET", "HEAD")
