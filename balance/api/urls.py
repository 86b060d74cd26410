"""Query routes (mounted under /v1/)."""
from django.urls import path

from balance.api.views import AccountTransactionsApi, BalanceGetApi

urlpatterns = [
    path("api/balance", BalanceGetApi.as_view(), name="balance-get"),
    path("api/accounts/<str:account_id>/transactions", AccountTransactionsApi.as_view(), name="account-transactions"),
]
