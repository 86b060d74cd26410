"""Read models of the query side (flows.md R38): one balance row per account and its postings.

They are caches the bank answers balance and history from, so those routes never call core banking.
They are fed in the same transaction as the bank's own events (transfer legs) and by an idempotent
import of core postings (`balance.services.account_sync_from_core`); a posting is applied once, keyed
by its unique core transaction id.
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AccountBalance(models.Model):
    """The bank's view of one core account: ledger balance, money on hold for transfers in flight."""

    account_id = models.CharField(_("account id"), max_length=10, unique=True)
    customer_id = models.CharField(_("customer id"), max_length=32, db_index=True)
    account_type = models.CharField(_("account type"), max_length=16, default="SAVINGS")
    currency = models.CharField(_("currency"), max_length=3, default="JPY")
    status = models.CharField(_("status"), max_length=16, default="ACTIVE")
    ledger_balance = models.BigIntegerField(_("ledger balance (yen)"), default=0)
    pending_debits = models.BigIntegerField(_("pending debits (yen)"), default=0)
    as_of = models.DateTimeField(_("data as of"), null=True, blank=True)
    last_event_position = models.BigIntegerField(_("last applied event position"), null=True, blank=True)
    core_synced_at = models.DateTimeField(_("last core sync"), null=True, blank=True)
    core_balance = models.BigIntegerField(_("balance reported by core at last sync"), null=True, blank=True)
    core_cursor_at = models.DateTimeField(_("newest core posting time imported"), null=True, blank=True)
    # Yen of transfers accepted from this account on `daily_transfer_day` (Asia/Tokyo) that still count against the
    # daily limit: kept on the row the accept locks anyway, so the limit check reads no other table. A transfer that
    # ends failed or compensated is taken off again. NULL day: not kept yet (the accept then counts once from the
    # transfers themselves).
    daily_transfer_day = models.DateField(_("day of the daily transfer total"), null=True, blank=True)
    daily_transfer_total = models.BigIntegerField(_("transfers counted against the daily limit (yen)"), default=0)

    class Meta:
        verbose_name = _("account balance")
        verbose_name_plural = _("account balances")
        constraints = [
            models.CheckConstraint(condition=Q(ledger_balance__gte=0), name="balance_ledger_non_negative"),
            models.CheckConstraint(condition=Q(pending_debits__gte=0), name="balance_pending_debits_non_negative"),
            models.CheckConstraint(condition=Q(daily_transfer_total__gte=0), name="balance_daily_total_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} ¥{self.ledger_balance:,}"

    @property
    def available_balance(self) -> int:
        """Ledger balance minus money held for accepted transfers whose withdrawal is not applied yet."""
        return self.ledger_balance - self.pending_debits


class TransactionEntry(models.Model):
    """One core posting as the customer sees it (signed amount: deposits > 0, withdrawals < 0)."""

    core_transaction_id = models.CharField(_("core transaction id"), max_length=40, unique=True)
    account_id = models.CharField(_("account id"), max_length=10)
    type = models.CharField(_("type"), max_length=32)
    amount = models.BigIntegerField(_("amount (yen, signed)"))
    currency = models.CharField(_("currency"), max_length=3, default="JPY")
    status = models.CharField(_("status"), max_length=16, default="COMPLETED")
    description = models.CharField(_("description"), max_length=255, blank=True, default="")
    transfer_id = models.CharField(_("transfer id"), max_length=64, blank=True, default="")
    source_account_id = models.CharField(_("source account"), max_length=32, blank=True, default="")
    target_account_id = models.CharField(_("target account"), max_length=32, blank=True, default="")
    timestamp = models.DateTimeField(_("posted at"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("transaction entry")
        verbose_name_plural = _("transaction entries")
        ordering = ("-timestamp", "-id")
        indexes = [models.Index(fields=["account_id", "-timestamp", "-id"], name="entry_account_newest")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_non_zero")]

    def __str__(self) -> str:
        return f"{self.core_transaction_id} {self.account_id} {self.amount:+,}"


class ReconciliationRun(models.Model):
    """One comparison of a read-model balance with core banking (R40): drift is reported, never rewritten."""

    account_id = models.CharField(_("account id"), max_length=10, db_index=True)
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    ledger_balance = models.BigIntegerField(_("bank ledger balance"))
    core_balance = models.BigIntegerField(_("core balance"), null=True, blank=True)
    drift = models.BigIntegerField(_("drift (core − ledger)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16)  # match | drift | skipped | unreachable
    note = models.CharField(_("note"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ("-checked_at", "-id")
