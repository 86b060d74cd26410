"""Account-opening routes (api.md §2.1, §2.2, §3.1, §3.2, §3.4, §3.5, flows.md R10), error family B.

Public (API key only, as the original): submit an application, read its status (only id, transactionId,
status: api.md §8). Staff only (staff JWT or Django staff session, never the public key: api.md §8):
approve / reject (permission `accounts.approve_application`), the list, credentials and event history
(permission `accounts.view_application`).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Application, ApplicationStatus
from accounts.validation import RequestBodyMissingError, application_input_parse
from auth_app.authentication import STAFF_AUTHENTICATION_CLASSES
from auth_app.permissions import HasPermission
from auth_app.throttling import ReadRateThrottle, WriteRateThrottle
from config.api import ROUTER, iso_time
from config.audit import actor_for_user
from config.errors import ApplicationError, NotFoundError
from config.inputs import aware_datetime_parse
from outbox.request_idempotency import idempotency_key_validate, request_fingerprint

APPROVE_PERMISSION = "accounts.approve_application"
VIEW_PERMISSION = "accounts.view_application"
COMMENT_MAX_LENGTH = 1000


class ApplicationIdSerializer(serializers.Serializer):
    id = serializers.CharField()
    transactionId = serializers.CharField()
    status = serializers.ChoiceField(choices=ApplicationStatus.values)


class PublicApi(APIView):
    """Family B, API key only (checked by the middleware); no user authentication."""

    error_family = ROUTER
    authentication_classes: list = []
    permission_classes: list = []


class StaffApi(APIView):
    error_family = ROUTER
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = [HasPermission(VIEW_PERMISSION)]
    throttle_classes = [ReadRateThrottle]  # the lists and event history (GET), per staff user


def _id_body(application: Application) -> dict[str, str]:
    return {"id": application.application_id, "transactionId": application.transaction_id,
            "status": application.status}


class ApplicationCreateApi(PublicApi):
    """POST /api/accounts — nested (the SPA's) or flat body → 201 `{id, transactionId, status: "PENDING"}`.

    Per-field 400 `{"error": "<text>", "fields": {...}}`; optional `Idempotency-Key` (R30). Public, so the write
    throttle counts per client address (THROTTLE_WRITE_RATE): a form-filling bot or a campaign spike from one
    source gets 429 instead of filling the provisioning queue.
    """

    throttle_classes = [WriteRateThrottle]

    @extend_schema(operation_id="account_application_create", request=OpenApiTypes.OBJECT,
                   responses={201: ApplicationIdSerializer})
    def post(self, request: Request) -> Response:
        key = idempotency_key_validate(request.headers.get("Idempotency-Key"))
        if not request.body:
            raise RequestBodyMissingError("Request body is required")
        body: Any = request.data
        application_input = application_input_parse(body)
        result = services.application_submit(application_input=application_input, idempotency_key=key,
                                             request_fingerprint=request_fingerprint(body) if key else "")
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return Response(result.body, status=result.status_code, headers=headers)


class ApplicationStatusApi(PublicApi):
    """GET /api/accounts/{applicationId} — only `{id, transactionId, status}` (no PII, no credentials)."""

    @extend_schema(operation_id="account_application_status", responses={200: ApplicationIdSerializer})
    def get(self, request: Request, application_id: str) -> Response:
        application = selectors.application_get(application_id=application_id)
        if application is None:
            raise NotFoundError("Application not found")
        return Response(_id_body(application))


class DecisionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default="")


class ApplicationApproveApi(StaffApi):
    """POST /api/accounts/confirm/{transactionId} `{comment}` → 200 `{id, transactionId, status: "CONFIRMED"}`;
    404; 400 `{error, currentStatus}` unless PENDING; 409 on a lost version race."""

    permission_classes = [HasPermission(APPROVE_PERMISSION)]

    @extend_schema(operation_id="account_application_approve", request=DecisionInputSerializer,
                   responses={200: ApplicationIdSerializer})
    def post(self, request: Request, transaction_id: str) -> Response:
        decision = DecisionInputSerializer(data=request.data if isinstance(request.data, dict) else {})
        decision.is_valid(raise_exception=True)
        application = services.application_approve(transaction_id=transaction_id, actor=actor_for_user(request.user),
                                                   reviewer=request.user.get_username(),
                                                   comment=decision.validated_data["comment"])
        return Response(_id_body(application))


class ApplicationRejectApi(ApplicationApproveApi):
    """POST /api/accounts/confirm/{transactionId}/reject `{comment}` → 200 `{…, status: "REJECTED"}`."""

    @extend_schema(operation_id="account_application_reject", request=DecisionInputSerializer,
                   responses={200: ApplicationIdSerializer})
    def post(self, request: Request, transaction_id: str) -> Response:
        decision = DecisionInputSerializer(data=request.data if isinstance(request.data, dict) else {})
        decision.is_valid(raise_exception=True)
        application = services.application_reject(transaction_id=transaction_id, actor=actor_for_user(request.user),
                                                  reviewer=request.user.get_username(),
                                                  comment=decision.validated_data["comment"])
        return Response(_id_body(application))


def application_list_item(application: Application) -> dict[str, Any]:
    """One item of GET /admin/account-applications (api.md §3.1; `submittedAt` kept at every stage)."""
    item: dict[str, Any] = {
        "id": application.application_id, "transactionId": application.transaction_id,
        "applicantName": application.full_name, "email": application.email,
        "phoneNumber": application.phone_number, "idType": application.id_type, "idNumber": application.id_number,
        "status": application.status, "submittedAt": iso_time(application.created_at),
        "updatedAt": iso_time(application.updated_at), "accountType": application.account_type,
    }
    if application.confirmed_at:
        item["confirmedAt"] = iso_time(application.confirmed_at)
    if application.status == ApplicationStatus.COMPLETED:
        item.update(completedAt=iso_time(application.completed_at), loginId=application.login_id,
                    accountNumber=application.account_number, branchCode=application.branch_code)
    if application.provisioning_error and application.status == ApplicationStatus.CONFIRMED:
        item["provisioningError"] = application.provisioning_error
    return item


class ApplicationListApi(StaffApi):
    """GET /admin/account-applications → `{"applications": [...]}` newest first (the whole list)."""

    @extend_schema(operation_id="admin_account_applications", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response({"applications": [application_list_item(a) for a in selectors.application_list()]})


class ApplicationCredentialsApi(StaffApi):
    """GET /admin/account-applications/{applicationId}/credentials — login data WITHOUT the password
    (`temporaryPassword: null`, `delivery: "mail"`: it went to the applicant only, R33)."""

    @extend_schema(operation_id="admin_account_application_credentials", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, application_id: str) -> Response:
        application = selectors.application_get(application_id=application_id)
        if application is None:
            raise NotFoundError("Application not found")
        if application.status != ApplicationStatus.COMPLETED:
            raise ApplicationError("Application is not completed yet", code="APPLICATION_NOT_COMPLETED",
                                   extra={"currentStatus": application.status})
        return Response({
            "applicationId": application.application_id, "transactionId": application.transaction_id,
            "loginId": application.login_id, "temporaryPassword": None, "delivery": "mail",
            "accountNumber": application.account_number, "branchCode": application.branch_code,
            "completedAt": iso_time(application.completed_at),
        })


def event_item(event) -> dict[str, Any]:
    return {"version": event.version, "type": event.type, "status": event.status,
            "timestamp": iso_time(event.recorded_at), "eventId": str(event.event_id),
            "processHistoryEntry": event.metadata.get("processHistoryEntry"),
            "actor": event.metadata.get("actor"), "correlationId": event.metadata.get("correlationId"),
            "comment": event.metadata.get("comment"), "data": event.data}


class ApplicationEventsApi(StaffApi):
    """GET /admin/account-applications/{applicationId}/events?asOf=<ISO-8601> — events in version order up to
    `asOf` and the state they fold to (R10). 400 for a bad `asOf`, 404 when the application has no events."""

    @extend_schema(operation_id="admin_account_application_events", responses={200: OpenApiTypes.OBJECT},
                   parameters=[OpenApiParameter("asOf", OpenApiTypes.DATETIME, OpenApiParameter.QUERY)])
    def get(self, request: Request, application_id: str) -> Response:
        raw_as_of = request.query_params.get("asOf")
        as_of = None
        if raw_as_of:
            try:
                as_of = aware_datetime_parse(raw_as_of, naive_zone=None)
            except ValueError:
                raise ApplicationError("asOf must be an ISO-8601 time with a time zone",
                                       code="INVALID_AS_OF") from None
        if selectors.application_get(application_id=application_id) is None:
            raise NotFoundError("Application not found")
        history = selectors.application_history(application_id=application_id, as_of=as_of)
        return Response({
            "applicationId": application_id, "asOf": iso_time(as_of) if as_of else None,
            "version": history.version, "state": history.state,
            "status": history.state.get("status") if history.state else None,
            "events": [event_item(event) for event in history.events],
            "summary": {"totalEvents": len(history.events)},
        })
