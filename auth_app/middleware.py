"""The original gateway's API-key check for every /v1/ route (api.md §1.4).

Any configured key (`BANK_API_KEY_CUSTOMER`, `BANK_API_KEY_ADMIN`, `BANK_API_KEY_AUTH`) is accepted on
any route, as the original's usage plans did; with none configured the check is skipped (local
development). A missing or unknown key answers 403 `{"message":"Forbidden"}`; CorsMiddleware sits
above this one, so the answer carries CORS headers and the browser shows the real status.

The key only identifies the client app (the keys are public, they ship in config.json): it is never
a credential for customer data or staff actions — those need a JWT or a staff session.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/v1/"


def configured_api_keys() -> list[str]:
    """The client keys in force (empty strings dropped)."""
    return [key for key in (settings.BANK_API_KEY_CUSTOMER, settings.BANK_API_KEY_ADMIN,
                            settings.BANK_API_KEY_AUTH) if key]


def api_key_is_valid(presented: str, keys: list[str]) -> bool:
    """Constant-time comparison against every configured key."""
    presented_bytes = presented.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented_bytes, key.encode("utf-8"))
    return matched


class ApiKeyMiddleware:
    """Reject /v1/ requests without a valid `X-Api-Key` (CORS preflights pass: they carry no key)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX) and request.method != "OPTIONS":
            keys = configured_api_keys()
            if keys and not api_key_is_valid(request.headers.get("X-Api-Key", ""), keys):
                return JsonResponse({"message": "Forbidden"}, status=403)
        return self.get_response(request)
