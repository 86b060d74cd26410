"""Read-only staff views of the read model and of reconciliation results (R40)."""
from django.contrib import admin

from balance.models import AccountBalance, ReconciliationRun, TransactionEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read models change only through services; staff can look, not edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountBalance)
class AccountBalanceAdmin(ReadOnlyAdmin):
    list_display = ("account_id", "customer_id", "status", "ledger_balance", "pending_debits", "as_of", "core_synced_at")
    list_filter = ("status", "account_type")
    search_fields = ("account_id", "customer_id")


@admin.register(TransactionEntry)
class TransactionEntryAdmin(ReadOnlyAdmin):
    list_display = ("core_transaction_id", "account_id", "type", "amount", "timestamp", "transfer_id")
    list_filter = ("type",)
    search_fields = ("core_transaction_id", "account_id", "transfer_id")
    date_hierarchy = "timestamp"


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "account_id", "outcome", "ledger_balance", "core_balance", "drift", "note")
    list_filter = ("outcome",)
    search_fields = ("account_id",)
