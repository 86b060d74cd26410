"""The account-opening application row: a projection (cache) of the `account_opening` event stream (R9).

Written only by `accounts.projections.application_project` inside the transaction that appends the event;
`manage.py rebuild_projections` rebuilds it from the events and gets the same rows.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ApplicationStatus(models.TextChoices):
    PENDING = "PENDING", _("審査中")
    CONFIRMED = "CONFIRMED", _("処理中")
    COMPLETED = "COMPLETED", _("完了")
    REJECTED = "REJECTED", _("却下")


class AccountType(models.TextChoices):
    SAVINGS = "SAVINGS", _("普通預金")
    CHECKING = "CHECKING", _("当座預金")


class Application(models.Model):
    """One application (its latest state, version = its newest event's version)."""

    id = models.BigAutoField(primary_key=True)
    application_id = models.CharField(_("application id"), max_length=64, unique=True)
    transaction_id = models.CharField(_("transaction id"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices)
    version = models.PositiveIntegerField(_("version"))
    full_name = models.CharField(_("full name"), max_length=100)
    kana = models.CharField(_("kana"), max_length=100, blank=True, default="")
    email = models.CharField(_("email"), max_length=254)
    phone_number = models.CharField(_("phone number"), max_length=20)
    id_type = models.CharField(_("ID type"), max_length=32)
    id_number = models.CharField(_("ID number"), max_length=32)
    account_type = models.CharField(_("account type"), max_length=16, choices=AccountType.choices)
    snapshot = models.JSONField(_("snapshot"), default=dict)
    created_at = models.DateTimeField(_("submitted at"))
    updated_at = models.DateTimeField(_("updated at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    receipt_notified_at = models.DateTimeField(_("receipt notified at"), null=True, blank=True)
    completion_notified_at = models.DateTimeField(_("completion notified at"), null=True, blank=True)
    reviewed_by = models.CharField(_("reviewed by"), max_length=150, blank=True, default="")
    review_comment = models.TextField(_("review comment"), blank=True, default="")
    customer_id = models.CharField(_("customer id"), max_length=32, blank=True, default="")
    account_id = models.CharField(_("account id"), max_length=16, blank=True, default="")
    account_number = models.CharField(_("account number"), max_length=16, blank=True, default="")
    branch_code = models.CharField(_("branch code"), max_length=8, blank=True, default="")
    login_id = models.CharField(_("login id"), max_length=150, blank=True, default="")
    provisioning_error = models.TextField(_("provisioning error"), blank=True, default="")
    provisioning_failed_at = models.DateTimeField(_("provisioning failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("account application")
        verbose_name_plural = _("account applications")
        ordering = ("-created_at", "-id")
        permissions = [("approve_application", _("Can approve or reject account applications"))]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ApplicationStatus.values), name="application_status_valid"),
            models.CheckConstraint(condition=Q(account_type__in=AccountType.values),
                                   name="application_account_type_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="application_version_gte_1"),
        ]
        indexes = [
            models.Index(fields=("status", "created_at"), name="application_status_created"),
            models.Index(fields=("-created_at",), name="application_created_desc"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} ({self.status})"
