"""What every core route shares: the `{"error": ...}` family, the service credential, fault injection, CORS,
404 for unserved methods, JSON-object bodies and the Idempotency-Key header."""
from __future__ import annotations

import hmac
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import CORE, error_body, field_errors
from config.errors import ApplicationError
from corebanking_mock.errors import EndpointNotFound, InjectedFault, Unauthorized
from corebanking_mock.faults import (
    NO_FAULTS,
    FaultPlan,
    fault_delay_or_fail,
    fault_hang_after_apply,
    fault_plan_for,
    fault_raise_if_down,
)
from corebanking_mock.services import CoreReply, request_fingerprint
from corebanking_mock.wire_versions import V1_TO_V2, renamed, request_from_v2, wire_is_v2

REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def credential_matches(*, provided: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented key with the configured one (an unset key matches nothing)."""
    if not provided or not expected:
        return False
    return hmac.compare_digest(provided.encode("utf-8"), expected.encode("utf-8"))


class CoreApiView(APIView):
    """Base of every core route. Order: unserved method 404 → `down` 503 → X-API-Key 401 → latency/timeout/error."""

    error_family = CORE
    fault_group = ""  # "" = fault injection does not apply to this route
    requires_api_key = True
    fault_plan: FaultPlan = NO_FAULTS
    wire_translated = True  # field names follow CORE_MOCK_WIRE (v2 renames them); False for the control routes

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if method == "options" or method not in self.http_method_names or not hasattr(self, method):
            raise EndpointNotFound(request.path, request.method)
        if self.fault_group:
            self.fault_plan = fault_plan_for(group=self.fault_group)
            fault_raise_if_down(self.fault_plan)
        if self.requires_api_key and not credential_matches(provided=request.headers.get("X-API-Key"),
                                                            expected=settings.CORE_BANKING_API_KEY):
            raise Unauthorized()
        fault_delay_or_fail(self.fault_plan)

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise EndpointNotFound(request.path, request.method)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        applied = request.method == "POST" and 200 <= response.status_code < 300 and not response.has_header(
            REPLAYED_HEADER)
        if applied and fault_hang_after_apply(self.fault_plan):
            response = self.handle_exception(InjectedFault("Gateway timeout", http_status=504,
                                                           fault="blackhole_after_apply"))
        if self.wire_translated and wire_is_v2() and isinstance(getattr(response, "data", None), (dict, list)):
            response.data = renamed(response.data, V1_TO_V2)
        response["Access-Control-Allow-Origin"] = "*"
        return super().finalize_response(request, response, *args, **kwargs)

    # --- request helpers used by the concrete views ---

    def json_object_body(self, request: Request) -> dict[str, Any]:
        """The request's JSON object (field names of wire v1, whatever the version the client spoke); 415 for a
        non-JSON body, 400 when empty, malformed or not an object."""
        raw_body = request.body
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if raw_body.strip() and media_type != "application/json":
            raise UnsupportedMediaType(media_type or "(none)")
        body = request.data if raw_body.strip() else None
        if body is None:
            raise ApplicationError("Request body is required", code="BODY_REQUIRED")
        if not isinstance(body, dict):
            raise ApplicationError("Request body must be a JSON object", code="BODY_NOT_OBJECT")
        return request_from_v2(body) if self.wire_translated and wire_is_v2() else body

    @staticmethod
    def idempotency_key(request: Request) -> str:
        """The `Idempotency-Key` header (R20); 400 when missing or not 1-255 visible ASCII characters."""
        key = request.headers.get("Idempotency-Key")
        if not key:
            raise ApplicationError("Idempotency-Key header is required", code="IDEMPOTENCY_KEY_REQUIRED")
        if not IDEMPOTENCY_KEY_PATTERN.match(key):
            raise ApplicationError("Idempotency-Key must be 1-255 visible ASCII characters",
                                   code="IDEMPOTENCY_KEY_INVALID")
        return key

    @staticmethod
    def validated(serializer_class: type[serializers.Serializer], body: dict[str, Any], *, message: str,
                  named_fields: set[str]) -> dict[str, Any]:
        """Shape-check `body`; 400 with per-field errors (`message` when only `named_fields` failed). Never stored."""
        serializer = serializer_class(data=body)
        if serializer.is_valid():
            return serializer.validated_data
        fields = field_errors(serializer.errors)
        text = message if not named_fields or set(fields) <= named_fields else "Invalid request"
        raise ApplicationError(text, code="VALIDATION_ERROR", extra={"fields": fields})

    @staticmethod
    def fingerprint(request: Request, body: dict[str, Any]) -> str:
        """The request's idempotency fingerprint (method, path, canonical body)."""
        return request_fingerprint(method=request.method, path=request.path_info, body=body)

    @staticmethod
    def reply(core_reply: CoreReply) -> Response:
        """Render a service reply as is; a stored answer carries `Idempotent-Replayed: true`."""
        headers = {REPLAYED_HEADER: "true"} if core_reply.replayed else None
        return Response(core_reply.body, status=core_reply.status_code, headers=headers)


class FaultControlApiView(CoreApiView):
    """Base of the fault-control routes: 404 unless CORE_MOCK_FAULTS_ENABLED, `X-Control-Key` instead of X-API-Key."""

    requires_api_key = False
    wire_translated = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not settings.CORE_MOCK_FAULTS_ENABLED:
            raise EndpointNotFound(request.path, request.method)
        super().initial(request, *args, **kwargs)
        if not credential_matches(provided=request.headers.get("X-Control-Key"),
                                  expected=settings.CORE_MOCK_CONTROL_KEY):
            raise Unauthorized()


@csrf_exempt
def endpoint_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Catch-all: 404 `{"error":"Endpoint not found","path","method"}` for any path the mock does not serve."""
    refusal = EndpointNotFound(request.path, request.method)
    response = JsonResponse(error_body(CORE, message=refusal.message, code=refusal.code, extra=refusal.extra),
                            status=refusal.http_status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def server_error(request: HttpRequest) -> JsonResponse:
    """handler500 of the core process (config/urls_core.py): JSON, never the bank's HTML error page."""
    response = JsonResponse({"error": "Internal server error"}, status=500)
    response["Access-Control-Allow-Origin"] = "*"
    return response
