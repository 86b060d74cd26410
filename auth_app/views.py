"""Gateway-level pages outside the API: the SPA's /config.json and the /v1/ catch-all."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def config_json(request: HttpRequest) -> JsonResponse:
    """GET /config.json — the runtime configuration the original SPA loads (api.md §1.1).

    `REACT_APP_BANKING_API` is PUBLIC_API_BASE_URL, else this server's /v1/ URL built from the request.
    The three values are the public client keys (never an admin secret: they identify the app only).
    """
    base_url = settings.PUBLIC_API_BASE_URL or request.build_absolute_uri("/v1/")
    if not base_url.endswith("/"):
        base_url += "/"
    response = JsonResponse({
        "REACT_APP_BANKING_API": base_url,
        "REACT_APP_CUSTOMER_API_KEY": settings.BANK_API_KEY_CUSTOMER,
        "REACT_APP_ADMIN_API_KEY": settings.BANK_API_KEY_ADMIN,
        "REACT_APP_AUTH_API_KEY": settings.BANK_API_KEY_AUTH,
    })
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return response


def api_route_missing(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any undefined path under /v1/: the original gateway's 403 `Missing Authentication Token` (api.md §1.7)."""
    return JsonResponse({"message": "Missing Authentication Token"}, status=403)
