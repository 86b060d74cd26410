"""Two request guards every process (bank web/API and core mock) runs.

`RequestSizeLimitMiddleware`: a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` is answered 413 before any view,
CSRF check or form reads it. Django raises `RequestDataTooBig` only when `request.body`/`request.POST` is
read, which DRF views turned into a 500 and form pages into a 400; here the declared Content-Length decides,
and the answer is in the route's JSON error family (config/api.py) or a plain page for HTML routes.

`NoStoreMiddleware`: every dynamic answer (API JSON, customer and staff pages) may carry account data, so
none may be kept by a browser or shared cache: `Cache-Control: no-store` unless the view chose a policy.
Static files are served by WhiteNoise above this middleware and keep their long cache headers.
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control

from config.api import AUTH, CORE, QUERY, ROUTER, error_body

GATEWAY = "gateway"  # the /v1/ catch-all and key checks: `{"message": "<text>"}`
PAYLOAD_TOO_LARGE = "Request body too large"


def error_family_for_request(request: HttpRequest) -> str | None:
    """The JSON error family of the route `request` reaches; None for an HTML route.

    DRF views name theirs (`error_family`); the /v1/ catch-all answers in the gateway shape and the core
    mock's catch-all in the core one.
    """
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return GATEWAY if request.path_info.startswith("/v1/") else None
    view_class = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
    family = getattr(view_class, "error_family", None)
    if family in (AUTH, ROUTER, QUERY, CORE):
        return family
    if match.url_name == "core-endpoint-not-found":
        return CORE
    if request.path_info.startswith("/v1/"):
        return GATEWAY
    return None


def payload_too_large_response(request: HttpRequest) -> HttpResponse:
    """413 in the route's error family (JSON), or a plain text page for form routes."""
    family = error_family_for_request(request)
    if family is None:
        # Both languages: the page is answered before LocaleMiddleware has chosen one.
        return HttpResponse("413 送信された内容が大きすぎます / Request Entity Too Large\n", status=413,
                            content_type="text/plain; charset=utf-8")
    if family == GATEWAY:
        body = {"message": PAYLOAD_TOO_LARGE}
    else:
        body = error_body(family, message=PAYLOAD_TOO_LARGE, code="PAYLOAD_TOO_LARGE",
                          extra={"maxBytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = JsonResponse(body, status=413, json_dumps_params={"ensure_ascii": False})
    if family == CORE:
        response["Access-Control-Allow-Origin"] = "*"
    return response


def declared_body_too_large(request: HttpRequest) -> bool:
    """True when the declared Content-Length exceeds the limit (multipart uploads have their own limits)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or request.content_type == "multipart/form-data":
        return False
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > limit


class RequestSizeLimitMiddleware:
    """413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if declared_body_too_large(request):
            return payload_too_large_response(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A body that grew past the limit without an honest Content-Length, read by a non-DRF view.
        if isinstance(exception, RequestDataTooBig):
            return payload_too_large_response(request)
        return None


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every dynamic answer whose view set no cache policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
