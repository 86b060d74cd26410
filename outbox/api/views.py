"""Staff API for the outbox (R19): list rows (dead letters with ?status=failed) and replay a dead letter."""
from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ROUTER, BodylessCommandMixin, iso_time
from config.audit import actor_for_user
from config.errors import NotFoundError
from config.inputs import is_ascii_unsigned_integer
from outbox import invariants as checks
from outbox import selectors, services
from outbox.models import OutboxStatus

MAX_ID = 2**63 - 1


class OutboxMessageOutputSerializer(serializers.Serializer):
    """One outbox row as operators see it (the payload stays in Django admin: it may carry personal data)."""

    id = serializers.IntegerField()
    key = serializers.CharField()
    kind = serializers.CharField()
    queue = serializers.CharField()
    aggregateId = serializers.CharField(source="aggregate_id")
    eventVersion = serializers.IntegerField(source="event_version", allow_null=True)
    eventType = serializers.CharField(source="event_type")
    status = serializers.CharField()
    retryCount = serializers.IntegerField(source="retry_count")
    maxAttempts = serializers.IntegerField(source="max_attempts")
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at")
    lockedBy = serializers.CharField(source="locked_by", allow_null=True)
    lockedUntil = serializers.DateTimeField(source="locked_until", allow_null=True)
    errorMessage = serializers.CharField(source="error_message")
    progress = serializers.JSONField()
    needsAttention = serializers.BooleanField(source="needs_attention")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    processedAt = serializers.DateTimeField(source="processed_at", allow_null=True)


class StaffApi(APIView):
    """Staff only: a Django staff session (CSRF enforced) or a staff JWT, never the public API key.

    The classes are auth_app's, named in settings (OUTBOX_STAFF_*) so that outbox imports no business app.
    """

    authentication_classes = import_string(settings.OUTBOX_STAFF_AUTHENTICATION_CLASSES)
    permission_classes = [import_string(settings.OUTBOX_STAFF_PERMISSION_CLASS)]
    # Per staff user on the lists (GET); the replay POST is not counted by it.
    throttle_classes = [import_string(settings.OUTBOX_STAFF_THROTTLE_CLASS)]
    error_family = ROUTER


class OutboxMessagePagination(LimitOffsetPagination):
    """`limit`/`offset` as ASCII digits or a 400: DRF's own reading goes through int(), which also takes
    "１" or "٣" (and silently ignores other junk). An offset past MAX_ID is refused too: the database would
    reject it as out of its integer range."""

    default_limit = 50
    max_limit = 200

    def paginate_queryset(self, queryset, request, view=None):
        bad = [name for name in (self.limit_query_param, self.offset_query_param)
               if name in request.query_params and (not is_ascii_unsigned_integer(request.query_params[name])
                                                    or int(request.query_params[name]) > MAX_ID)]
        if bad:
            raise serializers.ValidationError({name: [f"An integer from 0 to {MAX_ID} in ASCII digits is required."]
                                               for name in bad})
        return super().paginate_queryset(queryset, request, view=view)


class OutboxMessageListApi(StaffApi):
    """GET /v1/admin/outbox?status=failed&kind=…&queue=…&limit=…&offset=… → paged outbox rows, newest first."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OutboxStatus.values, required=False)
        kind = serializers.CharField(required=False, max_length=64)
        queue = serializers.CharField(required=False, max_length=16)

    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        messages = selectors.outbox_message_list(**filters.validated_data)
        paginator = OutboxMessagePagination()
        page = paginator.paginate_queryset(messages, request, view=self)
        return paginator.get_paginated_response(OutboxMessageOutputSerializer(page, many=True).data)


class OutboxMessageReplayApi(BodylessCommandMixin, StaffApi):
    """POST /v1/admin/outbox/{id}/replay → 200 with the row back in `pending`; 404 unknown; 409 not dead-lettered."""

    def post(self, request: Request, message_id: int) -> Response:
        if message_id > MAX_ID:
            raise NotFoundError(f"Outbox message {message_id} does not exist.")
        message = services.outbox_replay(message_id=message_id, actor=actor_for_user(request.user))
        return Response(OutboxMessageOutputSerializer(message).data)


class StuckItemOutputSerializer(serializers.Serializer):
    check = serializers.CharField()
    aggregateId = serializers.CharField(source="aggregate_id")
    severity = serializers.ChoiceField(choices=["warning", "critical"])
    reason = serializers.CharField()
    since = serializers.SerializerMethodField()
    detail = serializers.JSONField()

    def get_since(self, item: checks.StuckItem) -> str | None:
        return iso_time(item.since) if item.since else None


class StuckItemListApi(StaffApi):
    """GET /v1/admin/stuck → everything that should have moved on and did not (§5.10), critical first."""

    class OutputSerializer(serializers.Serializer):
        items = StuckItemOutputSerializer(many=True)
        total = serializers.IntegerField()

    @extend_schema(operation_id="admin_stuck_list", responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        items = checks.stuck_items_list()
        return Response(self.OutputSerializer({"items": items, "total": len(items)}).data)
