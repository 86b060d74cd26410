"""The transfer projection (R9: a cache of the event fold, rebuildable) and the operator action log.

`Transfer` rows are written only by transfers/projections.py while events are appended (same
transaction) or during a rebuild; services lock them (`select_for_update`) before appending.
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Transfer(models.Model):
    """Current state of one transfer: the fold of its events (status, leg, version, phase, terminal)."""

    transaction_id = models.CharField(_("transaction id"), max_length=32, unique=True)
    aggregate_id = models.CharField(_("aggregate id"), max_length=64, unique=True)
    customer_id = models.CharField(_("payer customer id"), max_length=32, db_index=True, blank=True, default="")
    source_account_id = models.CharField(_("source account"), max_length=10, db_index=True)
    target_account_id = models.CharField(_("target account"), max_length=10)
    amount = models.BigIntegerField(_("amount (yen)"))
    description = models.CharField(_("description"), max_length=255, blank=True, default="")
    status = models.CharField(_("status"), max_length=32)
    leg = models.CharField(_("leg"), max_length=16, null=True, blank=True)
    phase = models.CharField(_("saga phase"), max_length=32)
    version = models.PositiveIntegerField(_("version"))
    terminal = models.BooleanField(_("terminal"), default=False)
    withdrawn = models.BooleanField(_("withdrawal applied"), default=False)
    withdraw_core_id = models.CharField(_("core withdrawal id"), max_length=40, blank=True, default="")
    deposit_core_id = models.CharField(_("core deposit id"), max_length=40, blank=True, default="")
    refund_core_id = models.CharField(_("core refund id"), max_length=40, blank=True, default="")
    created_at = models.DateTimeField(_("received at"))
    updated_at = models.DateTimeField(_("last event at"))
    last_event_position = models.BigIntegerField(_("last applied event position"))

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["terminal", "created_at"], name="transfer_open_by_age"),
            models.Index(fields=["source_account_id", "created_at"], name="transfer_source_by_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=Q(version__gte=1), name="transfer_version_gte_1"),
        ]
        permissions = [
            ("abort_transfer", "Can abort a transfer whose withdrawal dead-lettered"),
            ("compensate_transfer", "Can compensate a transfer whose deposit dead-lettered"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id} {self.status}/{self.leg or '-'} ¥{self.amount:,}"


class TransferOperatorAction(models.Model):
    """Audit log of staff actions on a transfer (abort, compensate), including no-op repeats."""

    transaction_id = models.CharField(_("transaction id"), max_length=32, db_index=True)
    action = models.CharField(_("action"), max_length=16)
    actor = models.CharField(_("actor"), max_length=150)
    outcome = models.CharField(_("outcome"), max_length=32)
    phase_before = models.CharField(_("phase before"), max_length=32)
    phase_after = models.CharField(_("phase after"), max_length=32)
    note = models.CharField(_("note"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("transfer operator action")
        verbose_name_plural = _("transfer operator actions")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.action} {self.transaction_id} by {self.actor}: {self.outcome}"
