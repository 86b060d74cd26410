"""Wire shapes of the balance and history routes (api.md §2.3–2.5): the original's field names and types."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from balance.models import AccountBalance, TransactionEntry
from balance.selectors import EntryRow
from config.api import iso_time

FALLBACK_DESCRIPTIONS = {
    "TRANSFER_DEPOSIT": "振込入金",
    "TRANSFER_WITHDRAWAL": "振込出金",
    "ATM_DEPOSIT": "ATM入金",
    "ATM_WITHDRAWAL": "ATM出金",
    "TRANSFER_REFUND": "振込返金",
}
# Types the wire shows under another name. The original frontend colours an item as 入金 only when its
# `type` contains "DEPOSIT", so a compensating refund (core type TRANSFER_REFUND, money coming back to
# the payer) would be drawn as 出金. It goes out as TRANSFER_DEPOSIT; `originalType` keeps the real type.
WIRE_TYPES = {"TRANSFER_REFUND": "TRANSFER_DEPOSIT"}


def transaction_item(entry: TransactionEntry | EntryRow) -> dict[str, Any]:
    """One transaction item of §2.5: category/icon derived from the type; source/target only when known."""
    kind = entry.type
    if kind.startswith("TRANSFER_"):
        category, icon = "transfer", "💸"
    elif kind.startswith("ATM_"):
        category, icon = "atm", "🏧"
    else:
        category, icon = "other", "⬇️" if "DEPOSIT" in kind else "⬆️"
    description = entry.description or FALLBACK_DESCRIPTIONS.get(kind, "入金" if "DEPOSIT" in kind else "出金")
    item: dict[str, Any] = {
        "transactionId": entry.core_transaction_id,
        "timestamp": iso_time(entry.timestamp),
        "type": WIRE_TYPES.get(kind, kind),
        "amount": entry.amount,
        "status": entry.status,
        "description": description,
        "category": category,
        "icon": icon,
    }
    if kind in WIRE_TYPES:
        item["originalType"] = kind
    if entry.source_account_id:
        item["sourceInfo"] = f"送金元: {entry.source_account_id}"
    if entry.target_account_id:
        item["targetInfo"] = f"送金先: {entry.target_account_id}"
    if entry.transfer_id:
        item["transferId"] = entry.transfer_id
    return item


def account_info(account: AccountBalance) -> dict[str, str]:
    """The `accountInfo` object of the balance route."""
    return {"accountId": account.account_id, "accountType": account.account_type,
            "currency": account.currency, "status": account.status}


# --- OpenAPI: the documented shapes of the two answers (the views build the same keys) ---


class TransactionItemSerializer(serializers.Serializer):
    transactionId = serializers.CharField()
    timestamp = serializers.CharField(help_text="ISO time (ms, Z)")
    type = serializers.CharField(help_text="TRANSFER_DEPOSIT, TRANSFER_WITHDRAWAL, ATM_DEPOSIT, ATM_WITHDRAWAL, …")
    amount = serializers.IntegerField(help_text="signed yen: deposits > 0, withdrawals < 0")
    status = serializers.CharField()
    description = serializers.CharField()
    category = serializers.ChoiceField(choices=["transfer", "atm", "other"])
    icon = serializers.CharField()
    sourceInfo = serializers.CharField(required=False)
    targetInfo = serializers.CharField(required=False)
    transferId = serializers.CharField(required=False)
    originalType = serializers.CharField(required=False, help_text="stored type when `type` is mapped "
                                                                  "(TRANSFER_REFUND is sent as TRANSFER_DEPOSIT)")


class AccountInfoSerializer(serializers.Serializer):
    accountId = serializers.CharField()
    accountType = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField()


class BalanceOutputSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="ledger balance in yen")
    lastUpdated = serializers.CharField(help_text="when the data was last confirmed (ISO time)")
    recentTransactions = TransactionItemSerializer(many=True)
    transactionCount = serializers.IntegerField()
    accountInfo = AccountInfoSerializer()
    availableBalance = serializers.IntegerField(help_text="ledger minus money held for transfers in flight")
    pendingDebits = serializers.IntegerField()
    stale = serializers.BooleanField(help_text="true when core banking was not synced recently")
    coreSyncedAt = serializers.CharField(allow_null=True)


class HistoryOutputSerializer(serializers.Serializer):
    accountId = serializers.CharField()
    transactions = TransactionItemSerializer(many=True)
    totalCount = serializers.IntegerField(help_text="number of items in `transactions`")
    limit = serializers.IntegerField(help_text="constant 10, kept for wire parity")
    lastUpdated = serializers.CharField()
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    hasMore = serializers.BooleanField()
    stale = serializers.BooleanField()
