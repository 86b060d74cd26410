"""One DRF exception handler for the whole API.

The original API has several error body families (api.md §1.7) and the clients read specific keys,
so each view declares `error_family`; this handler renders every error (ApplicationError, DRF
validation/parse/media-type errors, 404s) in that family's shape. Unexpected exceptions are logged
with a request id that the body also carries; no internal message or trace reaches the client.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults as django_defaults
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
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
    return iso_time(dt.datetime.now(dt.UTC))


def iso_time(value: dt.datetime) -> str:
    """Format an aware datetime as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def error_body(family: str, *, message: str, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build an error body of the given family."""
    extra = extra or {}
    if family == AUTH:
        return {"error": {"code": code, "message": message, "timestamp": iso_now(), **extra}}
    if family == QUERY:
        return {"message": message, **extra}
    return {"error": message, **extra}


def field_errors(detail: Any) -> Any:
    """Validation errors as plain JSON: `{"field": ["message", ...], "nested": {"field": [...]}}`."""
    if isinstance(detail, dict):
        return {key: field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if any(isinstance(item, (dict, list)) for item in detail):
            return [field_errors(item) for item in detail]  # nested serializers: one entry per item
        return [str(item) for item in detail]
    return [str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render `exc` in the error family of the view that raised it."""
    view = context.get("view")
    family = getattr(view, "error_family", ROUTER)

    if isinstance(exc, ApplicationError):
        body = error_body(family, message=exc.message, code=exc.code, extra=exc.extra)
        return Response(body, status=exc.http_status)
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = field_errors(exc.detail)
        message = "Invalid request"
        if isinstance(fields, dict) and "non_field_errors" in fields and len(fields) == 1:
            message = fields["non_field_errors"][0]
        body = error_body(family, message=message, code="VALIDATION_ERROR", extra={"fields": fields})
        return Response(body, status=400)
    if isinstance(exc, RequestDataTooBig):
        # Normally answered by config.http_guards before the view; this covers a body read past the limit.
        return Response(error_body(family, message="Request body too large", code="PAYLOAD_TOO_LARGE",
                                   extra={"maxBytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}), status=413)
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
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait is not None else None
        return Response({"message": "Too Many Requests"}, status=429, headers=headers)
    if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        # Every token failure is 401 (never 403) so the frontend's "401 → log out" runs (api.md §1.7, §4.5).
        auth_header = getattr(exc, "auth_header", None)
        return Response({"message": "Unauthorized"}, status=401,
                        headers={"WWW-Authenticate": auth_header} if auth_header else None)
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


class BodylessCommandMixin:
    """For POST routes that take no fields (logout, abort, compensate, replay; the core mock's void and fault
    reset): a body, if one is sent, is still parsed before the command runs, so a malformed or absurdly
    nested one is a 400 and the command does not run on a request that could not be read. Authentication
    and permissions are checked first."""

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if request.method in ("POST", "PUT", "PATCH"):
            request.data  # noqa: B018 — parsing is the point: ParseError → 400


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 for errors outside DRF views: JSON with a logged request id on the API, Django's page elsewhere."""
    if not request.path.startswith("/v1/"):
        return django_defaults.server_error(request)
    request_id = uuid.uuid4().hex
    logger.error("unhandled error request_id=%s path=%s", request_id, request.path, exc_info=sys.exc_info())
    return JsonResponse({"message": "Internal server error", "requestId": request_id}, status=500)


# --- OpenAPI: one error serializer per body family, added to every operation -------------------------

class AuthErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable error code, e.g. INVALID_CREDENTIALS")
    message = serializers.CharField()
    timestamp = serializers.CharField(help_text="ISO time of the error (ms, Z)")
    requestId = serializers.CharField(required=False, help_text="Only on 500: the id in the server log")


class AuthErrorSerializer(serializers.Serializer):
    """Family A (auth routes): `{"error": {"code", "message", "timestamp"}}`."""

    error = AuthErrorDetailSerializer()


class RouterErrorSerializer(serializers.Serializer):
    """Family B (account opening and admin routes): `{"error": "<text>"}`, sometimes with extra keys."""

    error = serializers.CharField()


class QueryErrorSerializer(serializers.Serializer):
    """Family C (balance, history, transfer): `{"message": "<text>"}`, sometimes with extra keys."""

    message = serializers.CharField()


class CoreErrorSerializer(serializers.Serializer):
    """Core-banking mock: `{"error": "<text>"}`."""

    error = serializers.CharField()


class GatewayErrorSerializer(serializers.Serializer):
    """Family D (gateway answers: key, token, throttling): `{"message": "<text>"}`."""

    message = serializers.CharField()


FAMILY_ERROR_SERIALIZERS = {
    AUTH: AuthErrorSerializer,
    ROUTER: RouterErrorSerializer,
    QUERY: QueryErrorSerializer,
    CORE: CoreErrorSerializer,
}


class BankAutoSchema(AutoSchema):
    """drf-spectacular schema that documents the error answers every route can give.

    Added unless the view documents the status itself: 400/404/413/500 in the view's family, 403 (API key)
    and 401 (when the view authenticates) and 429 (when it throttles) in the gateway shape, and 415 for
    operations with a body. Every operation also requires the `apiKey` scheme (X-Api-Key).
    """

    def get_tags(self) -> list[str]:
        # One tag per app (auth_app, balance, transfers, accounts, ...).
        return [type(self.view).__module__.split(".")[0]]

    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        # Views nest `InputSerializer` / `OutputSerializer` (house style): name the component after the
        # enclosing classes (`LoginApi.InputSerializer` → `LoginApiInput`) so components never collide.
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            outer = "".join(qualname.split(".")[:-1])
            if not name.startswith(outer):
                name = outer + name
        return name

    def get_auth(self) -> list[dict[str, Any]]:
        requirements = super().get_auth()
        if not requirements:
            return [{"apiKey": []}]
        return [{**requirement, "apiKey": []} for requirement in requirements]

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        family_serializer = FAMILY_ERROR_SERIALIZERS.get(getattr(self.view, "error_family", ROUTER),
                                                          RouterErrorSerializer)
        defaults: dict[str, Any] = {
            "400": (family_serializer, "Malformed JSON or invalid input"),
            "403": (GatewayErrorSerializer, "Forbidden: missing or unknown X-Api-Key (or not allowed)"),
            "404": (family_serializer, "Not found"),
            "405": (family_serializer, "Method not allowed"),
            "413": (family_serializer, "Request body over DATA_UPLOAD_MAX_MEMORY_SIZE (config/http_guards.py)"),
            "500": (family_serializer, "Internal server error; the body carries the logged requestId"),
        }
        if self.method in ("POST", "PUT", "PATCH"):
            defaults["415"] = (family_serializer, "Content-Type must be application/json")
        if self.view.get_authenticators():
            defaults["401"] = (GatewayErrorSerializer, "Unauthorized: missing, invalid, expired or revoked token")
        if self.view.get_throttles():
            defaults["429"] = (GatewayErrorSerializer, "Too Many Requests (Retry-After tells when to retry)")
        for code, (serializer, description) in defaults.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(OpenApiResponse(serializer, description=description),
                                                              code, direction=direction)
        responses = dict(sorted(responses.items()))
        return responses
