"""Transfer routes (api.md §2.6, §3.3; flows.md R26, R27, R29): thin views over transfers.services/selectors."""
from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from auth_app.authentication import STAFF_AUTHENTICATION_CLASSES, CustomerJWTAuthentication
from auth_app.permissions import HasPermission, IsCustomer, IsStaffUser
from auth_app.throttling import ReadRateThrottle, WriteRateThrottle
from config.api import QUERY, ROUTER, BodylessCommandMixin, iso_time
from config.audit import actor_for_user
from config.errors import ApplicationError, NotFoundError
from config.inputs import aware_datetime_parse
from outbox.request_idempotency import idempotency_key_validate
from transfers import selectors, services
from transfers.api.timeline import timeline_body
from transfers.models import Transfer

EVENTS_NOT_FOUND = "Transfer events not found"


class TransferRequestApi(APIView):
    """POST /api/transfer (alias /api/transfers) → 202 `{message, transactionId, timestamp, aggregateId, version}`."""

    error_family = QUERY
    authentication_classes = [CustomerJWTAuthentication]
    permission_classes = [IsCustomer]
    throttle_classes = [WriteRateThrottle]

    class InputSerializer(serializers.Serializer):
        sourceAccountId = serializers.CharField(help_text="the token owner's account (else 403)")
        targetAccountId = serializers.CharField(help_text="10-digit account number, ≠ source")
        amount = serializers.IntegerField(min_value=1, help_text="yen, up to TRANSFER_MAX_AMOUNT")
        description = serializers.CharField(required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        message = serializers.CharField()
        transactionId = serializers.CharField(help_text="32 lowercase hex")
        timestamp = serializers.CharField()
        aggregateId = serializers.CharField()
        version = serializers.IntegerField()

    @extend_schema(operation_id="transfer_request", request=InputSerializer, responses={202: OutputSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                                description="optional; same key + body within 24 h → first answer")])
    def post(self, request: Request) -> Response:
        # The body's shape is checked by the service so refusals keep the original's messages.
        key = idempotency_key_validate(request.headers.get("Idempotency-Key"))
        answer = services.transfer_request(user=request.user, body=request.data, idempotency_key=key)
        return Response(answer.body, status=answer.status_code)


def transfer_status_body(transfer: Transfer) -> dict[str, Any]:
    return {"transactionId": transfer.transaction_id, "aggregateId": transfer.aggregate_id,
            "status": transfer.status, "leg": transfer.leg, "terminal": transfer.terminal,
            "version": transfer.version, "amount": transfer.amount,
            "sourceAccountId": transfer.source_account_id, "targetAccountId": transfer.target_account_id,
            "createdAt": iso_time(transfer.created_at), "lastUpdated": iso_time(transfer.updated_at)}


class TransferStatusOutputSerializer(serializers.Serializer):
    transactionId = serializers.CharField()
    aggregateId = serializers.CharField()
    status = serializers.CharField(help_text="RECEIVED, WITHDRAW_REQUESTED, processing, completed, failed, "
                                             "DEPOSIT_REQUESTED, COMPENSATION_REQUESTED, COMPENSATED, REJECTED")
    leg = serializers.CharField(allow_null=True, help_text="WITHDRAW | DEPOSIT | COMPENSATION")
    terminal = serializers.BooleanField()
    version = serializers.IntegerField()
    amount = serializers.IntegerField()
    sourceAccountId = serializers.CharField()
    targetAccountId = serializers.CharField()
    createdAt = serializers.CharField()
    lastUpdated = serializers.CharField()


class TransferStatusApi(APIView):
    """GET /api/transfers/{transactionId} → the payer's view of progress (R29); others get 404."""

    error_family = QUERY
    authentication_classes = [CustomerJWTAuthentication]
    permission_classes = [IsCustomer]

    @extend_schema(operation_id="transfer_status", responses={200: TransferStatusOutputSerializer})
    def get(self, request: Request, transaction_id: str) -> Response:
        transfer = selectors.transfer_get_for_owner(transaction_id=transaction_id,
                                                    customer_id=request.user.customer_id)
        return Response(transfer_status_body(transfer))


def _as_of(raw: str | None) -> dt.datetime | None:
    """The `asOf` query parameter: absent → None; a time without offset is UTC; anything that is not a real,
    in-range instant → 400."""
    if raw is None or raw == "":
        return None
    try:
        return aware_datetime_parse(raw)
    except ValueError:
        raise ApplicationError("asOf must be an ISO-8601 time", code="INVALID_AS_OF") from None


class StaffTransferApi(APIView):
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = [IsStaffUser]
    throttle_classes = [ReadRateThrottle]  # GET (event viewer) per staff user; abort/compensate are not counted
    error_family = ROUTER


class TransferEventsApi(StaffTransferApi):
    """GET /admin/transfer-events/{transactionId}?asOf= → the original viewer's shape + version, leg, state."""

    @extend_schema(operation_id="admin_transfer_events", responses={200: OpenApiTypes.OBJECT}, parameters=[
        OpenApiParameter("asOf", OpenApiTypes.DATETIME, OpenApiParameter.QUERY,
                         description="only events recorded at or before this instant (time travel)")])
    def get(self, request: Request, transaction_id: str) -> Response:
        timeline = selectors.transfer_timeline(transaction_id=transaction_id,
                                               as_of=_as_of(request.query_params.get("asOf")))
        if timeline is None:
            raise NotFoundError(EVENTS_NOT_FOUND)
        return Response(timeline_body(timeline))


class TransferActionOutputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["applied", "voided", "noop"],
                                      help_text="applied: core had applied the leg; voided: the key is void; "
                                                "noop: the leg was already resolved")
    transfer = TransferStatusOutputSerializer()


class TransferAbortApi(BodylessCommandMixin, StaffTransferApi):
    """POST /admin/transfers/{transactionId}/abort (R26): void the withdrawal of a dead-lettered withdraw leg."""

    permission_classes = [HasPermission("transfers.abort_transfer")]

    @extend_schema(operation_id="admin_transfer_abort", request=None, responses={200: TransferActionOutputSerializer})
    def post(self, request: Request, transaction_id: str) -> Response:
        if selectors.transfer_get(transaction_id=transaction_id) is None:
            raise NotFoundError("Transfer not found")
        transfer, outcome = services.transfer_abort(transaction_id=transaction_id, actor=actor_for_user(request.user))
        return Response({"outcome": outcome, "transfer": transfer_status_body(transfer)})


class TransferCompensateApi(BodylessCommandMixin, StaffTransferApi):
    """POST /admin/transfers/{transactionId}/compensate (R27): void a dead-lettered deposit and refund the payer."""

    permission_classes = [HasPermission("transfers.compensate_transfer")]

    @extend_schema(operation_id="admin_transfer_compensate", request=None,
                   responses={200: TransferActionOutputSerializer})
    def post(self, request: Request, transaction_id: str) -> Response:
        if selectors.transfer_get(transaction_id=transaction_id) is None:
            raise NotFoundError("Transfer not found")
        transfer, outcome = services.transfer_compensate(transaction_id=transaction_id,
                                                         actor=actor_for_user(request.user))
        return Response({"outcome": outcome, "transfer": transfer_status_body(transfer)})
