"""The core-banking mock's system of record: customers, accounts, postings, idempotency records, fault settings.

All rows live on the `core` database alias (config/routers.py). Money is integer yen; the money rules that
must never break (no negative balance, no zero posting, posting sign matches its type) are CHECK constraints,
so the database refuses a bad row even if a code path forgets a check.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CORE_DB = "core"
BRANCH_CODE = "001"
CURRENCY_JPY = "JPY"


class CustomerStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    FROZEN = "FROZEN"


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    FROZEN = "FROZEN"


class AccountType(models.TextChoices):
    SAVINGS = "SAVINGS"
    CHECKING = "CHECKING"


class PostingType(models.TextChoices):
    TRANSFER_DEPOSIT = "TRANSFER_DEPOSIT"
    TRANSFER_WITHDRAWAL = "TRANSFER_WITHDRAWAL"
    ATM_DEPOSIT = "ATM_DEPOSIT"
    ATM_WITHDRAWAL = "ATM_WITHDRAWAL"
    TRANSFER_REFUND = "TRANSFER_REFUND"
    OPENING_DEPOSIT = "OPENING_DEPOSIT"


CREDIT_POSTING_TYPES = (PostingType.TRANSFER_DEPOSIT, PostingType.ATM_DEPOSIT, PostingType.TRANSFER_REFUND,
                        PostingType.OPENING_DEPOSIT)
DEBIT_POSTING_TYPES = (PostingType.TRANSFER_WITHDRAWAL, PostingType.ATM_WITHDRAWAL)


class Customer(models.Model):
    """A core customer. Seeded customers carry last/first name only; created ones carry the full profile."""

    customer_id = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(max_length=200, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    kana = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254)
    phone = models.CharField(max_length=32, blank=True, default="")
    birth_date = models.CharField(max_length=32, blank=True, default="")
    postal_code = models.CharField(max_length=16, blank=True, default="")
    address = models.CharField(max_length=300, blank=True, default="")
    id_type = models.CharField(max_length=32, blank=True, default="")
    id_number = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    seeded = models.BooleanField(default=False, help_text="demo data of api.md §6.3 (rendered in its own shape)")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("core customer")
        verbose_name_plural = _("core customers")
        ordering = ["customer_id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CustomerStatus.values), name="core_customer_status_valid"),
        ]

    def __str__(self) -> str:
        return self.customer_id


class Account(models.Model):
    """A yen account; `account_id` is the 10-digit number (branch `001` + 7 digits). Balance never below zero."""

    account_id = models.CharField(max_length=10, primary_key=True)
    customer_id = models.CharField(max_length=32, db_index=True,
                                   help_text="not a foreign key: the original never checks the customer exists")
    account_type = models.CharField(max_length=16, choices=AccountType.choices)
    balance = models.BigIntegerField(help_text="integer yen")
    currency = models.CharField(max_length=3, default=CURRENCY_JPY)
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    branch_code = models.CharField(max_length=3, default=BRANCH_CODE)
    branch_name = models.CharField(max_length=100, blank=True, default="")
    seeded = models.BooleanField(default=False, help_text="demo data of api.md §6.3 (rendered in its own shape)")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("core account")
        verbose_name_plural = _("core accounts")
        ordering = ["account_id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="core_account_balance_not_negative"),
            models.CheckConstraint(condition=Q(status__in=AccountStatus.values), name="core_account_status_valid"),
            models.CheckConstraint(condition=Q(account_type__in=AccountType.values), name="core_account_type_valid"),
            models.CheckConstraint(condition=Q(currency=CURRENCY_JPY), name="core_account_currency_jpy"),
        ]

    def __str__(self) -> str:
        return self.account_id


class Posting(models.Model):
    """One balance change of one account (the original's "transaction record"); the amount is signed yen."""

    transaction_id = models.CharField(max_length=40, primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings", db_column="account_id")
    type = models.CharField(max_length=24, choices=PostingType.choices)
    amount = models.BigIntegerField(help_text="signed integer yen: credits > 0, debits < 0")
    currency = models.CharField(max_length=3, default=CURRENCY_JPY)
    status = models.CharField(max_length=16, default="COMPLETED")
    description = models.CharField(max_length=255)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(default=timezone.now)
    source_account_id = models.CharField(max_length=64, null=True, blank=True)
    target_account_id = models.CharField(max_length=64, null=True, blank=True)
    transfer_id = models.CharField(max_length=128, null=True, blank=True)
    transfer_type = models.CharField(max_length=16, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True,
                                       help_text="the request that made it: a key moves money at most once")
    seeded = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("core posting")
        verbose_name_plural = _("core postings")
        ordering = ["-timestamp", "-transaction_id"]
        indexes = [models.Index(fields=["account", "-timestamp"], name="core_posting_account_time")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="core_posting_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(type__in=CREDIT_POSTING_TYPES, amount__gt=0)
                | Q(type__in=DEBIT_POSTING_TYPES, amount__lt=0),
                name="core_posting_sign_matches_type",
            ),
        ]

    def __str__(self) -> str:
        return self.transaction_id


class IdempotencyState(models.TextChoices):
    APPLIED = "applied"
    VOIDED = "voided"


class IdempotencyRecord(models.Model):
    """The stored answer of one `Idempotency-Key` (R21), or a `voided` tombstone that blocks it for good (R22)."""

    key = models.CharField(max_length=255, primary_key=True)
    fingerprint = models.CharField(max_length=64, blank=True, default="",
                                   help_text="sha256 of method, path and canonical JSON body; empty when voided")
    method = models.CharField(max_length=8, blank=True, default="")
    path = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=8, choices=IdempotencyState.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("core idempotency record")
        verbose_name_plural = _("core idempotency records")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=IdempotencyState.values), name="core_idem_state_valid"),
            models.CheckConstraint(
                condition=Q(state=IdempotencyState.APPLIED, status_code__isnull=False, response_body__isnull=False)
                | Q(state=IdempotencyState.VOIDED, status_code__isnull=True),
                name="core_idem_applied_has_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class FaultSetting(models.Model):
    """Injected faults of one route group (or `all`), shared by every worker process through the core DB."""

    group = models.CharField(max_length=16, primary_key=True)
    down = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(default=0.0)
    timeout_rate = models.FloatField(default=0.0)
    blackhole_after_apply = models.FloatField(default=0.0)
    hang_seconds = models.FloatField(default=10.0)
    seed = models.BigIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revision = models.CharField(max_length=32, help_text="changes on every write; re-seeds the workers' random")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fault setting")
        verbose_name_plural = _("fault settings")
        ordering = ["group"]
        constraints = [
            models.CheckConstraint(
                condition=Q(error_rate__gte=0, error_rate__lte=1) & Q(timeout_rate__gte=0, timeout_rate__lte=1)
                & Q(blackhole_after_apply__gte=0, blackhole_after_apply__lte=1),
                name="core_fault_rates_between_0_and_1",
            ),
            models.CheckConstraint(condition=Q(hang_seconds__gte=0), name="core_fault_hang_not_negative"),
        ]

    def __str__(self) -> str:
        return self.group
