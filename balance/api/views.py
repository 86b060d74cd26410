"""Balance inquiry and transaction history (api.md §2.3, §2.4): owner-only, served from the read model."""
from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from auth_app.authentication import CustomerJWTAuthentication
from auth_app.permissions import IsCustomer
from auth_app.throttling import ReadRateThrottle
from balance.api.serializers import BalanceOutputSerializer, HistoryOutputSerializer, account_info, transaction_item
from balance.selectors import (
    account_get_for_owner,
    account_is_stale,
    balance_card_for_owner,
    transactions_for_account,
)
from config.api import QUERY, iso_time
from config.errors import ApplicationError
from config.inputs import is_ascii_unsigned_integer

# fullmatch below: `$` alone would also accept a trailing newline ("0011234567\n").
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{10}")
# The original returned at most 50 postings from core; the balance card shows the first 10 of them.
ORIGINAL_LIST_CAP = 50
RECENT_ON_BALANCE = 10


def _validated_account_id(raw: str | None, *, missing_message: str) -> str:
    if not raw:
        raise ApplicationError(missing_message, code="MISSING_ACCOUNT_ID")
    if not ACCOUNT_ID_PATTERN.fullmatch(raw):
        raise ApplicationError("accountId must be a 10-digit account number", code="INVALID_ACCOUNT_ID")
    return raw


def _positive_int(raw: str | None, *, name: str, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    # ASCII only: str.isdigit() and int() also take "²", "①", "１", "٣".
    if not is_ascii_unsigned_integer(raw) or not 1 <= int(raw) <= maximum:
        raise ApplicationError(f"{name} must be an integer between 1 and {maximum}", code="INVALID_PAGINATION")
    return int(raw)


class CustomerQueryApi(APIView):
    """Base of the customer query routes: JWT of a customer, query-family error bodies."""

    error_family = QUERY
    authentication_classes = [CustomerJWTAuthentication]
    permission_classes = [IsCustomer]
    throttle_classes = [ReadRateThrottle]  # per customer: THROTTLE_READ_RATE


class BalanceGetApi(CustomerQueryApi):
    """GET /api/balance?accountId= — the balance card: ledger balance, recent postings, account info."""

    @extend_schema(operation_id="balance_get", responses={200: BalanceOutputSerializer}, parameters=[
        OpenApiParameter("accountId", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True,
                         description="10-digit account number of the token owner (others → 404)")])
    def get(self, request):
        account_id = _validated_account_id(request.query_params.get("accountId"),
                                           missing_message="accountId is required as query parameter")
        card = balance_card_for_owner(account_id=account_id, customer_id=request.user.customer_id,
                                      recent=RECENT_ON_BALANCE, cap=ORIGINAL_LIST_CAP)
        account = card.account
        return Response({
            "balance": account.ledger_balance,
            "lastUpdated": iso_time(account.as_of),
            "recentTransactions": [transaction_item(entry) for entry in card.recent],
            "transactionCount": card.entry_count,
            "accountInfo": account_info(account),
            # Additions (the original frontend ignores unknown keys):
            "availableBalance": account.available_balance,
            "pendingDebits": account.pending_debits,
            "stale": account_is_stale(account=account),
            "coreSyncedAt": iso_time(account.core_synced_at) if account.core_synced_at else None,
        })


class AccountTransactionsApi(CustomerQueryApi):
    """GET /api/accounts/{id}/transactions — postings newest first; `page`/`pageSize` page through the rest."""

    @extend_schema(operation_id="account_transactions", responses={200: HistoryOutputSerializer}, parameters=[
        OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="1-based page (default 1)"),
        OpenApiParameter("pageSize", OpenApiTypes.INT, OpenApiParameter.QUERY,
                         description="items per page (default 50, at most BALANCE_HISTORY_MAX_PAGE_SIZE)")])
    def get(self, request, account_id: str):
        account_id = _validated_account_id(account_id, missing_message="Account ID is required in path parameter")
        account = account_get_for_owner(account_id=account_id, customer_id=request.user.customer_id)
        page = _positive_int(request.query_params.get("page"), name="page", default=1, maximum=1_000_000)
        page_size = _positive_int(request.query_params.get("pageSize"), name="pageSize",
                                  default=settings.BALANCE_HISTORY_PAGE_SIZE,
                                  maximum=settings.BALANCE_HISTORY_MAX_PAGE_SIZE)
        offset = (page - 1) * page_size
        window = list(transactions_for_account(account_id=account_id)[offset:offset + page_size + 1])
        entries, has_more = window[:page_size], len(window) > page_size
        return Response({
            "accountId": account.account_id,
            "transactions": [transaction_item(entry) for entry in entries],
            "totalCount": len(entries),
            "limit": 10,
            "lastUpdated": iso_time(account.as_of),
            "page": page,
            "pageSize": page_size,
            "hasMore": has_more,
            "stale": account_is_stale(account=account),
        })
