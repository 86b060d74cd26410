"""API routes of the transfers app (mounted under /v1/)."""
from django.urls import path

from transfers.api.views import (
                                 TransferAbortApi,
                                 TransferCompensateApi,
                                 TransferEventsApi,
                                 TransferRequestApi,
                                 TransferStatusApi,
)

urlpatterns = [
    path("api/transfer", TransferRequestApi.as_view(), name="transfer-request"),
    path("api/transfers", TransferRequestApi.as_view(), name="transfer-request-alias"),
    path("api/transfers/<str:transaction_id>", TransferStatusApi.as_view(), name="transfer-status"),
    path("admin/transfer-events/<str:transaction_id>", TransferEventsApi.as_view(), name="transfer-events"),
    path("admin/transfers/<str:transaction_id>/abort", TransferAbortApi.as_view(), name="transfer-abort"),
    path("admin/transfers/<str:transaction_id>/compensate", TransferCompensateApi.as_view(),
         name="transfer-compensate"),
]
