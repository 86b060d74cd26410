"""django-axes integration: the locked-out answer in the original's family-A body (api.md §4.1)."""
from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from auth_app.errors import AccountLocked
from config.api import error_body


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 401 `ACCOUNT_LOCKED` on the API, a plain 429 page elsewhere (Django admin).

    A web page that already rendered the lockout message itself (it sets `request.bank_lockout_rendered`)
    keeps its own answer (the customer login and password-change pages)."""
    if getattr(request, "bank_lockout_rendered", False) and original_response is not None:
        return original_response
    if request.path.startswith("/v1/"):
        error = AccountLocked()
        return JsonResponse(error_body("auth", message=error.message, code=error.code), status=error.http_status)
    return HttpResponse("Account locked: too many login attempts. Please try again later.", status=429,
                        content_type="text/plain; charset=utf-8")
