"""Read-only staff views of the read model and of reconciliation results (R40).

An account's page shows its balance and latest postings as of any past time (`?as_of=`, the form above the
page), rebuilt from the postings by `balance.selectors.account_as_of`.
"""
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from balance.models import AccountBalance, ReconciliationRun, TransactionEntry
from balance.selectors import account_as_of
from config.admin_mixins import AsOfAdminMixin, ReadOnlyAdminMixin

POSTINGS_SHOWN_AS_OF = 50


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


@admin.register(AccountBalance)
class AccountBalanceAdmin(AsOfAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("account_id", "customer_id", "status", "ledger_balance", "pending_debits", "as_of",
                    "core_synced_at")
    list_filter = ("status", "account_type")
    search_fields = ("account_id", "customer_id")
    fields = ("account_id", "customer_id", "account_type", "currency", "status", "ledger_balance", "pending_debits",
              "as_of", "core_synced_at", "core_balance", "balance_as_of", "postings_as_of")
    readonly_fields = ("balance_as_of", "postings_as_of")

    def _as_of(self, obj: AccountBalance):
        at = getattr(obj, "as_of_view", None) or timezone.now()
        cached = getattr(obj, "_account_as_of", None)
        if cached is None or cached.as_of != at:
            cached = obj._account_as_of = account_as_of(account_id=obj.account_id, as_of=at,
                                                        limit=POSTINGS_SHOWN_AS_OF)
        return cached

    @admin.display(description=_("balance as of (from the postings)"))
    def balance_as_of(self, obj: AccountBalance) -> str:
        view = self._as_of(obj)
        return format_html('<span data-testid="balance-as-of">¥{}</span> — {} ({} {})', f"{view.balance:,}",
                           _local(view.as_of), view.posting_count, _("postings"))

    @admin.display(description=_("postings as of (newest first)"))
    def postings_as_of(self, obj: AccountBalance) -> str:
        view = self._as_of(obj)
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
                                "<td class=\"num\">{}</td><td>{}</td></tr>", (
                                    (_local(p.entry.timestamp), p.entry.core_transaction_id, p.entry.type,
                                     f"{p.entry.amount:+,}", f"{p.balance_after:,}", p.entry.description)
                                    for p in view.postings))
        return format_html('<table data-testid="postings-as-of"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
                           '<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
                           _("posted at"), _("core transaction id"), _("type"), _("amount (yen, signed)"),
                           _("balance after (yen)"), _("description"), rows)


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
