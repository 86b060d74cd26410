"""Routes of the core-banking mock process (mounted at the root by config/urls_core.py; no trailing slashes).

The last pattern catches everything else: 404 `{"error":"Endpoint not found","path","method"}`.
"""
from django.urls import path, re_path, register_converter

from corebanking_mock.api import views
from corebanking_mock.api.base import endpoint_not_found


class CoreIdConverter:
    """A path segment id: 1-255 characters, no slash or control characters (PostgreSQL refuses NUL)."""

    regex = r"[^/\x00-\x1f\x7f]{1,255}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CoreIdConverter, "coreid")

urlpatterns = [
    path("api/customers", views.CustomerCreateApi.as_view(), name="core-customer-create"),
    path("api/customers/<coreid:customer_id>", views.CustomerDetailApi.as_view(), name="core-customer-detail"),
    path("api/accounts", views.AccountCreateApi.as_view(), name="core-account-create"),
    path("api/accounts/<coreid:account_id>", views.AccountDetailApi.as_view(), name="core-account-detail"),
    path("api/accounts/<coreid:account_id>/transactions", views.AccountTransactionListApi.as_view(),
         name="core-account-transactions"),
    path("api/transactions/withdraw", views.TransactionWithdrawApi.as_view(), name="core-withdraw"),
    path("api/transactions/deposit", views.TransactionDepositApi.as_view(), name="core-deposit"),
    path("api/transaction/<coreid:transaction_id>", views.TransactionDetailApi.as_view(), name="core-transaction"),
    path("api/idempotency/<coreid:key>", views.IdempotencyDetailApi.as_view(), name="core-idempotency-detail"),
    path("api/idempotency/<coreid:key>/void", views.IdempotencyVoidApi.as_view(), name="core-idempotency-void"),
    path("core/health", views.CoreHealthApi.as_view(), name="core-health"),
    path("core/_faults", views.FaultSettingsApi.as_view(), name="core-faults"),
    path("core/_faults/reset", views.FaultResetApi.as_view(), name="core-faults-reset"),
    path("core/_faults/accounts/<coreid:account_id>", views.FaultAccountStatusApi.as_view(),
         name="core-faults-account-status"),
    re_path(r"^.*$", endpoint_not_found, name="core-endpoint-not-found"),
]
