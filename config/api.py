"""One DRF exception handler for the whole API.

The original API has several error body families (api.md §1.7) and the clients read specific keys,
so each view declares `error_family`; this handler renders every error (ApplicationError, DRF
validation/parse/media-type errors, 404s) in that family's shape. Unexpected exceptions are logged
with a request id that the body also carries; no internal message or trace reaches the client.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from config.errors import ApplicationError

logger = logging.getLogger("bank.api")

# Family names used by views (class attribute `error_family`).
AUTH = "auth"  # {"error": {"code", "message", "timestamp"}}
ROUTER = "router"  # {"error": "<text>", ...extra}
QUERY = "query"  # {"message": "<text>", ...extra}
CORE = "core"  # {"error": "<text>", ...extra}  (core-banking mock)

INTERNAL_ERROR_TEXT = {
    AUTH: "Internal server error",
    ROUTER: "Internal server error",
    QUERY: "システムエラーが発生しました。時間をおいて再度お試しください。",
    CORE: "Internal server error",
}


def iso_now() -> str:
    """UTC time in the JavaScript toISOString() form the original uses (millisecond precision, Z)."""
    return iso_time(dt.datetime.now(dt.timezone.utc))


def iso_time(value: dt.datetime) -> str:
    """Format an aware datetime as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def error_body(family: str, *, message: str, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build an error body of the given family."""
    extra = extra or {}
    if family == AUTH:
        return {"error": {"code": code, "message": message, "timestamp": iso_now(), **extra}}
    if family == QUERY:
        return {"message": message, **extra}
    return {"error": message, **extra}


def _field_errors(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = [_field_errors(item) for item in detail]
        return flat if any(isinstance(item, (dict, list)) for item in flat) else [str(item) for item in flat]
    return [str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render `exc` in the error family of the view that raised it."""
    view = context.get("view")
    family = getattr(view, "error_family", ROUTER)

    if isinstance(exc, ApplicationError):
        body = error_body(family, message=exc.message, code=exc.code, extra=exc.extra)
        return Response(body, status=exc.http_status)
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        message = "Invalid request"
        if isinstance(fields, dict) and "non_field_errors" in fields and len(fields) == 1:
            message = fields["non_field_errors"][0]
        body = error_body(family, message=message, code="VALIDATION_ERROR", extra={"fields": fields})
        return Response(body, status=400)
    if isinstance(exc, drf_exceptions.ParseError):
        return Response(error_body(family, message="Malformed JSON body", code="MALFORMED_JSON"), status=400)
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return Response(error_body(family, message="Content-Type must be application/json",
                                   code="UNSUPPORTED_MEDIA_TYPE"), status=415)
    if isinstance(exc, (Http404, drf_exceptions.NotFound)):
        return Response(error_body(family, message="Not Found", code="NOT_FOUND"), status=404)
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return Response(error_body(family, message="Method not allowed", code="METHOD_NOT_ALLOWED"), status=405)
    if isinstance(exc, drf_exceptions.Throttled):
        return Response({"message": "Too Many Requests"}, status=429)
    if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        return Response({"message": "Unauthorized"}, status=401)
    if isinstance(exc, (drf_exceptions.PermissionDenied, PermissionDenied)):
        return Response({"message": "Forbidden"}, status=403)
    if isinstance(exc, drf_exceptions.APIException):
        return Response(error_body(family, message=str(exc.detail), code=exc.default_code.upper()),
                        status=exc.status_code)

    request_id = uuid.uuid4().hex
    logger.exception("unhandled error request_id=%s view=%s", request_id, type(view).__name__ if view else None)
    body = error_body(family, message=INTERNAL_ERROR_TEXT.get(family, "Internal server error"),
                      code="INTERNAL_ERROR", extra={"requestId": request_id})
    return Response(body, status=500)
