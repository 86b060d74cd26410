"""API routes of the outbox app (mounted under /v1/): staff-only outbox list and dead-letter replay (R19)."""
from django.urls import path

from outbox.api.views import OutboxMessageListApi, OutboxMessageReplayApi, StuckItemListApi

urlpatterns = [
    path("admin/outbox", OutboxMessageListApi.as_view(), name="outbox-message-list"),
    path("admin/outbox/<int:message_id>/replay", OutboxMessageReplayApi.as_view(), name="outbox-message-replay"),
    path("admin/stuck", StuckItemListApi.as_view(), name="stuck-item-list"),
]
