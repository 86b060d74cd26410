"""Read-only staff views of the read model and of reconciliation results (R40)."""
from django.contrib import admin

from balance.models import AccountBalance, ReconciliationRun, TransactionEntry
from config.admin import ReadOnlyAdminMixin


@admin.register(AccountBalance)
class AccountBalanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("account_id", "customer_id", "status", "ledger_balance", "pending_debits", "as_of", "core_synced_at")
    list_filter = ("status", "account_type")
    search_fields = ("account_id", "customer_id")


@admin.register(TransactionEntry)
class TransactionEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("core_transaction_id", "account_id", "type", "amount", "timestamp", "transfer_id")
    list_filter = ("type",)
    search_fields = ("core_transaction_id", "account_id", "transfer_id")
    date_hierarchy = "timestamp"


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("checked_at", "account_id", "outcome", "ledger_balance", "core_balance", "drift", "note")
    list_filter = ("outcome",)
    search_fields = ("account_id",)
