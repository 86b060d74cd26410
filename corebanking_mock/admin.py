"""Read-only admin lists of the core-banking mock's rows (changes go through the mock's API only)."""
from django.contrib import admin

from config.admin_mixins import ChangelistFilterGuardMixin
from corebanking_mock.models import Account, Customer, FaultSetting, IdempotencyRecord, Posting


class ReadOnlyAdmin(ChangelistFilterGuardMixin, admin.ModelAdmin):
    """List and view only: no add, change or delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("customer_id", "name", "last_name", "first_name", "email", "status", "created_at")
    search_fields = ("customer_id", "email")


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("account_id", "customer_id", "account_type", "balance", "status", "updated_at")
    list_filter = ("status", "account_type")
    search_fields = ("account_id", "customer_id")


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ("transaction_id", "account_id", "type", "amount", "timestamp", "transfer_id", "idempotency_key")
    list_filter = ("type",)
    search_fields = ("transaction_id", "account__account_id", "transfer_id", "idempotency_key")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "state", "status_code", "method", "path", "created_at")
    list_filter = ("state",)
    search_fields = ("key",)


@admin.register(FaultSetting)
class FaultSettingAdmin(ReadOnlyAdmin):
    list_display = ("group", "down", "latency_ms", "error_rate", "timeout_rate", "blackhole_after_apply",
                    "expires_at", "updated_at")
