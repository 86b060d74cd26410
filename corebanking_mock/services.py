"""Every write of the core-banking mock.

Creating and money-moving calls run through `_apply_idempotently`: one `transaction.atomic(using="core")`
holds the effect (account row lock, balance update, posting) *and* the idempotency record (R21), so a key is
applied at most once even under concurrent repeats, and a business refusal is stored as the key's answer.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.utils import timezone

from config.api import CORE, error_body, iso_time
from corebanking_mock.errors import (
    AccountNotActive,
    AccountNotFound,
    BusinessRefusal,
    IdempotencyKeyAlreadyApplied,
    IdempotencyKeyReused,
    IdempotencyKeyVoided,
    InsufficientBalance,
)
from corebanking_mock.models import (
    BRANCH_CODE,
    CORE_DB,
    Account,
    AccountStatus,
    Customer,
    IdempotencyRecord,
    IdempotencyState,
    Posting,
    PostingType,
)
from corebanking_mock.response_bodies import account_to_wire, customer_to_wire
from corebanking_mock.sql import PostingRequest, posting_apply

logger = logging.getLogger("bank.corebanking_mock")

# Account numbers of the seeded demo accounts: never handed out again.
RESERVED_ACCOUNT_NUMBERS = frozenset({"1234567", "7654321"})
ID_ATTEMPTS = 20
OPENING_DEPOSIT_DESCRIPTION = "口座開設時入金"
DEFAULT_DESCRIPTIONS = {
    PostingType.TRANSFER_WITHDRAWAL: "振込による出金",
    PostingType.ATM_WITHDRAWAL: "ATM出金",
    PostingType.TRANSFER_DEPOSIT: "振込による入金",
    PostingType.ATM_DEPOSIT: "ATM入金",
    PostingType.TRANSFER_REFUND: "振込返金",
}


@dataclass(frozen=True)
class CoreReply:
    """An HTTP answer of the mock: status, raw JSON body, and whether it is a stored answer being replayed."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class CustomerInfo:
    """The `customerInfo` of `POST /api/customers` (optional fields default to "")."""

    full_name: str
    email: str
    kana: str = ""
    phone_number: str = ""
    birthdate: str = ""
    postal_code: str = ""
    address: str = ""
    id_type: str = ""
    id_number: str = ""


# --- idempotency -----------------------------------------------------------------------------------


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """sha256 of method, path and the canonical JSON body: what "the same request" means for a key."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{canonical}".encode()).hexdigest()


def _stored_answer(record: IdempotencyRecord, *, fingerprint: str) -> CoreReply:
    """The answer for a repeat of a known key: the stored reply, or 409 (voided) / 422 (other request)."""
    if record.state == IdempotencyState.VOIDED:
        raise IdempotencyKeyVoided(record.key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(record.key)
    return CoreReply(status_code=record.status_code, body=record.response_body, replayed=True)


def _apply_idempotently(*, key: str, fingerprint: str, method: str, path: str,
                        effect: Callable[[], CoreReply]) -> CoreReply:
    """Run `effect` and store its reply under `key`, in one core transaction; a known key gets its stored answer.

    A `BusinessRefusal` raised by `effect` is rolled back to a savepoint and stored as the key's answer.
    A concurrent request that committed the same key first makes our insert fail: we answer from its record.
    """
    existing = IdempotencyRecord.objects.filter(pk=key).first()
    if existing is not None:
        return _stored_answer(existing, fingerprint=fingerprint)
    try:
        with transaction.atomic(using=CORE_DB, durable=True):
            try:
                with transaction.atomic(using=CORE_DB):
                    reply = effect()
            except BusinessRefusal as refusal:
                reply = CoreReply(status_code=refusal.http_status,
                                  body=error_body(CORE, message=refusal.message, code=refusal.code,
                                                  extra=refusal.extra))
            IdempotencyRecord.objects.create(
                key=key, fingerprint=fingerprint, method=method.upper(), path=path[:255],
                state=IdempotencyState.APPLIED, status_code=reply.status_code, response_body=reply.body,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(pk=key).first()
        if existing is None:
            raise
        logger.info("idempotency key %s was committed by a concurrent request; answering from its record", key)
        return _stored_answer(existing, fingerprint=fingerprint)
    return reply


def idempotency_void(*, key: str) -> CoreReply:
    """Void `key` for good (R22): store a `voided` tombstone if unknown; 200 if voided.

    Raises IdempotencyKeyAlreadyApplied (409, with the stored answer) when the key already has an answer.
    """
    record = IdempotencyRecord.objects.filter(pk=key).first()
    if record is None:
        try:
            with transaction.atomic(using=CORE_DB, durable=True):
                record = IdempotencyRecord.objects.create(key=key, state=IdempotencyState.VOIDED)
        except IntegrityError:
            record = IdempotencyRecord.objects.get(pk=key)
    if record.state == IdempotencyState.APPLIED:
        raise IdempotencyKeyAlreadyApplied(key, record.status_code, record.response_body)
    return CoreReply(status_code=200, body={"key": record.key, "state": record.state})


def idempotency_purge(*, retention_days: int | None = None) -> int:
    """Delete idempotency records (and tombstones) older than the retention period; returns how many."""
    days = settings.CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    with transaction.atomic(using=CORE_DB, durable=True):
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- ids ----------------------------------------------------------------------------------------


def _posting_id(prefix: str) -> str:
    """`WTH`/`DEP`/`OPN` + epoch milliseconds + 6 random digits."""
    return f"{prefix}{time.time_ns() // 1_000_000}{secrets.randbelow(1_000_000):06d}"


def _create_with_unique_id(model: type[Model], make_id: Callable[[], str], create: Callable[[str], Any]) -> Any:
    """Insert a row under a fresh random id, retrying on a duplicate (the database primary key decides)."""
    for _ in range(ID_ATTEMPTS):
        candidate = make_id()
        try:
            with transaction.atomic(using=CORE_DB):
                return create(candidate)
        except IntegrityError:
            if not model.objects.filter(pk=candidate).exists():
                raise  # not a duplicate id: some other constraint refused the row
            logger.info("generated %s id %s collided; retrying", model.__name__, candidate)
    raise RuntimeError(f"no free {model.__name__} id after {ID_ATTEMPTS} attempts")


def _new_account_number() -> str:
    while True:
        number = f"{secrets.randbelow(10_000_000):07d}"
        if number not in RESERVED_ACCOUNT_NUMBERS:
            return BRANCH_CODE + number


def _new_customer_id() -> str:
    return f"CUST-{secrets.randbelow(1_000_000):06d}"


def _insert_posting(*, prefix: str, **fields: Any) -> Posting:
    return _create_with_unique_id(Posting, lambda: _posting_id(prefix),
                                  lambda posting_id: Posting.objects.create(transaction_id=posting_id, **fields))


# --- customers and accounts ------------------------------------------------------------------------


def customer_create(*, customer_info: CustomerInfo, idempotency_key: str, request_fingerprint: str,
                    path: str = "/api/customers") -> CoreReply:
    """Create a customer with a fresh unique `CUST-` id; 201 with the stored customer (idempotent on the key)."""

    def effect() -> CoreReply:
        now = timezone.now()
        customer = _create_with_unique_id(Customer, _new_customer_id, lambda customer_id: Customer.objects.create(
            customer_id=customer_id, name=customer_info.full_name, kana=customer_info.kana,
            email=customer_info.email, phone=customer_info.phone_number, birth_date=customer_info.birthdate,
            postal_code=customer_info.postal_code, address=customer_info.address, id_type=customer_info.id_type,
            id_number=customer_info.id_number, created_at=now, updated_at=now,
        ))
        return CoreReply(status_code=201, body=customer_to_wire(customer))

    return _apply_idempotently(key=idempotency_key, fingerprint=request_fingerprint, method="POST", path=path,
                               effect=effect)


def account_create(*, customer_id: str, account_type: str, idempotency_key: str, request_fingerprint: str,
                   path: str = "/api/accounts") -> CoreReply:
    """Open an account `001`+7 digits with the configured opening credit, posted as `OPENING_DEPOSIT`; 201."""

    def effect() -> CoreReply:
        now = timezone.now()
        opening_credit_yen = int(settings.CORE_MOCK_OPENING_CREDIT)
        account = _create_with_unique_id(Account, _new_account_number, lambda account_id: Account.objects.create(
            account_id=account_id, customer_id=customer_id, account_type=account_type, balance=opening_credit_yen,
            created_at=now, updated_at=now,
        ))
        if opening_credit_yen > 0:
            _insert_posting(prefix="OPN", account=account, type=PostingType.OPENING_DEPOSIT,
                            amount=opening_credit_yen, description=OPENING_DEPOSIT_DESCRIPTION, timestamp=now,
                            processed_at=now, idempotency_key=idempotency_key)
        return CoreReply(status_code=201, body=account_to_wire(account))

    return _apply_idempotently(key=idempotency_key, fingerprint=request_fingerprint, method="POST", path=path,
                               effect=effect)


def account_set_status(*, account_id: str, status: str) -> Account:
    """Set an account's status (ACTIVE | INACTIVE | FROZEN); fault-control only. Raises AccountNotFound."""
    with transaction.atomic(using=CORE_DB, durable=True):
        account = Account.objects.select_for_update().filter(pk=account_id).first()
        if account is None:
            raise AccountNotFound(account_id)
        Account.objects.filter(pk=account_id).update(status=status, updated_at=timezone.now())
        account.refresh_from_db()
    return account


# --- money movement ----------------------------------------------------------------------------------


def _lock_active_account(account_id: str) -> Account:
    """Lock the account row for the rest of the transaction; refuse unknown (404) or non-ACTIVE (409) ones."""
    account = Account.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise AccountNotFound(account_id)
    if account.status != AccountStatus.ACTIVE:
        raise AccountNotActive(account_id, account.status)
    return account


def _move_money(movement: PostingRequest, *, prefix: str, message: str, report_balance: bool) -> CoreReply:
    """Apply one withdraw/deposit under its key: the lean statement(s) of corebanking_mock/sql.py for a fresh key
    that succeeds, else the general path (row lock, refusal stored as the key's answer, or the stored answer)."""
    amount_yen = abs(movement.delta_yen)

    def reply_body(transaction_id: str, now: dt.datetime) -> dict[str, Any]:
        return {"transactionId": transaction_id, "accountId": movement.account_id, "amount": amount_yen,
                "status": "COMPLETED", "message": message, "timestamp": iso_time(now)}

    posting_id = _posting_id(prefix)
    body = reply_body(posting_id, movement.now)
    new_balance_yen = posting_apply(movement, posting_id=posting_id, body=body, report_balance=report_balance)
    if new_balance_yen is not None:
        return CoreReply(status_code=200, body={**body, "newBalance": new_balance_yen} if report_balance else body)

    def effect() -> CoreReply:
        account = _lock_active_account(movement.account_id)
        if account.balance + movement.delta_yen < 0:
            raise InsufficientBalance(account.balance, amount_yen)
        now = timezone.now()
        # Conditional update: with the row lock it cannot miss, but it keeps "never below zero" explicit.
        updated = Account.objects.filter(pk=movement.account_id, balance__gte=-movement.delta_yen).update(
            balance=F("balance") + movement.delta_yen, updated_at=now)
        if updated != 1:
            raise InsufficientBalance(account.balance, amount_yen, lost_race=True)
        posting = _insert_posting(prefix=prefix, account=account, amount=movement.delta_yen, timestamp=now,
                                  processed_at=now, idempotency_key=movement.key, **movement.posting)
        answer = reply_body(posting.transaction_id, now)
        if report_balance:
            answer["newBalance"] = Account.objects.values_list("balance", flat=True).get(pk=movement.account_id)
        return CoreReply(status_code=200, body=answer)

    return _apply_idempotently(key=movement.key, fingerprint=movement.fingerprint, method=movement.method,
                               path=movement.path, effect=effect)


def transaction_withdraw(*, account_id: str, amount_yen: int, transaction_type: str, description: str,
                         target_account_id: str | None, transfer_id: str | None, idempotency_key: str,
                         request_fingerprint: str, path: str = "/api/transactions/withdraw") -> CoreReply:
    """Debit `amount_yen` and write a negative posting; 200 with `newBalance`.

    Refusals (stored under the key): AccountNotFound 404, AccountNotActive 409, InsufficientBalance 400.
    """
    is_transfer = transaction_type == PostingType.TRANSFER_WITHDRAWAL
    posting = {"type": transaction_type, "description": description or DEFAULT_DESCRIPTIONS[transaction_type],
               "target_account_id": (target_account_id or "UNKNOWN") if is_transfer else None,
               "transfer_id": transfer_id if is_transfer else None,
               "transfer_type": "OUTBOUND" if is_transfer else None}
    movement = PostingRequest(account_id=account_id, delta_yen=-amount_yen, posting=posting, key=idempotency_key,
                              fingerprint=request_fingerprint, method="POST", path=path[:255], now=timezone.now())
    return _move_money(movement, prefix="WTH", message="Withdrawal processed successfully", report_balance=True)


def transaction_deposit(*, account_id: str, amount_yen: int, transaction_type: str, description: str,
                        source_account_id: str | None, transfer_id: str | None, idempotency_key: str,
                        request_fingerprint: str, path: str = "/api/transactions/deposit") -> CoreReply:
    """Credit `amount_yen` and write a positive posting (a refund is `TRANSFER_REFUND`); 200.

    Refusals (stored under the key): AccountNotFound 404, AccountNotActive 409 (R22: FROZEN/INACTIVE targets).
    """
    is_transfer = transaction_type in (PostingType.TRANSFER_DEPOSIT, PostingType.TRANSFER_REFUND)
    posting = {"type": transaction_type, "description": description or DEFAULT_DESCRIPTIONS[transaction_type],
               "source_account_id": (source_account_id or "UNKNOWN") if is_transfer else None,
               "transfer_id": transfer_id if is_transfer else None,
               "transfer_type": "INBOUND" if is_transfer else None}
    movement = PostingRequest(account_id=account_id, delta_yen=amount_yen, posting=posting, key=idempotency_key,
                              fingerprint=request_fingerprint, method="POST", path=path[:255], now=timezone.now())
    return _move_money(movement, prefix="DEP", message="Deposit processed successfully", report_balance=False)


# --- seed ------------------------------------------------------------------------------------------

SEED_BRANCH_NAME = "オンラインバンキング支店"
SEED_CUSTOMERS = (
    {"customer_id": "CUST001", "last_name": "キンユウ", "first_name": "リファレンスアーキテクチャ",
     "email": "user001@example.com", "phone": "090-0000-0001"},
    {"customer_id": "CUST002", "last_name": "モダン", "first_name": "アプリケーション",
     "email": "user002@example.com", "phone": "090-0000-0002"},
)
SEED_ACCOUNTS = (
    {"account_id": "0011234567", "customer_id": "CUST001", "balance": 10_000_000},
    {"account_id": "0017654321", "customer_id": "CUST002", "balance": 10_000_000},
)
SEED_POSTINGS = (
    ("TXN001", "2024-01-15T10:00:00", "0011234567", PostingType.TRANSFER_DEPOSIT, 20_000_000, "振込による入金",
     {"source_account_id": "9999999", "transfer_id": "TRF001", "transfer_type": "INBOUND"}),
    ("TXN002", "2024-02-10T14:30:00", "0011234567", PostingType.TRANSFER_WITHDRAWAL, -5_000_000, "振込による出金",
     {"target_account_id": "0017654321", "transfer_id": "TRF002", "transfer_type": "OUTBOUND"}),
    ("TXN003", "2024-03-05T16:45:00", "0011234567", PostingType.ATM_WITHDRAWAL, -5_000_000, "ATM出金", {}),
    ("TXN004", "2024-01-20T11:15:00", "0017654321", PostingType.ATM_DEPOSIT, 5_000_000, "ATM入金", {}),
    ("TXN005", "2024-02-10T14:30:00", "0017654321", PostingType.TRANSFER_DEPOSIT, 5_000_000, "振込による入金",
     {"source_account_id": "0011234567", "transfer_id": "TRF002", "transfer_type": "INBOUND"}),
)


@dataclass(frozen=True)
class SeedReport:
    """How many seed rows were missing and created by this run."""

    customers_created: int
    accounts_created: int
    postings_created: int


def core_seed() -> SeedReport:
    """Create the demo data of api.md §6.3 where missing; existing rows (and their balances) are left alone."""
    customers_created = accounts_created = postings_created = 0
    with transaction.atomic(using=CORE_DB, durable=True):
        for customer in SEED_CUSTOMERS:
            _, created = Customer.objects.get_or_create(customer_id=customer["customer_id"],
                                                        defaults={**customer, "seeded": True})
            customers_created += created
        for account in SEED_ACCOUNTS:
            _, created = Account.objects.get_or_create(
                account_id=account["account_id"],
                defaults={**account, "account_type": "SAVINGS", "branch_name": SEED_BRANCH_NAME, "seeded": True})
            accounts_created += created
        for transaction_id, at, account_id, posting_type, amount_yen, description, extra in SEED_POSTINGS:
            timestamp = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
            _, created = Posting.objects.get_or_create(transaction_id=transaction_id, defaults={
                "account_id": account_id, "type": posting_type, "amount": amount_yen, "description": description,
                "timestamp": timestamp, "processed_at": timestamp, "seeded": True, **extra,
            })
            postings_created += created
    return SeedReport(customers_created, accounts_created, postings_created)
