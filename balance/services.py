"""State changes of the read side. Every posting is applied once (unique core transaction id), under the
account row lock, in one transaction; network calls to core happen before the transaction, never inside."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, connections, router, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from balance.models import AccountBalance, ReconciliationRun, TransactionEntry
from config.errors import NotFoundError
from config.inserts import insert_unless_exists, insert_unless_exists_sql
from config.observability import metrics
from config.rows import model_columns, model_from_row
from outbox.core_banking import client as core_client

logger = logging.getLogger("bank.balance")


@dataclass(frozen=True)
class Posting:
    """A core posting in the bank's terms (signed amount)."""

    core_transaction_id: str
    account_id: str
    type: str
    amount: int
    timestamp: dt.datetime
    description: str = ""
    status: str = "COMPLETED"
    currency: str = "JPY"
    transfer_id: str = ""
    source_account_id: str = ""
    target_account_id: str = ""

    @classmethod
    def from_core(cls, record: dict) -> Posting:
        """Build from a core transaction record (api.md §6.4)."""
        timestamp = parse_datetime(str(record.get("timestamp") or record.get("processedAt") or ""))
        if timestamp is None:
            raise ValueError(f"core posting {record.get('transactionId')!r} has no valid timestamp")
        if timezone.is_naive(timestamp):
            timestamp = timezone.make_aware(timestamp, dt.UTC)
        return cls(
            core_transaction_id=str(record["transactionId"]),
            account_id=str(record["accountId"]),
            type=str(record.get("type") or ""),
            amount=int(record["amount"]),
            timestamp=timestamp,
            description=str(record.get("description") or ""),
            status=str(record.get("status") or "COMPLETED"),
            currency=str(record.get("currency") or "JPY"),
            transfer_id=str(record.get("transferId") or ""),
            source_account_id=str(record.get("sourceAccountId") or ""),
            target_account_id=str(record.get("targetAccountId") or ""),
        )


@dataclass(frozen=True)
class SyncResult:
    account_id: str
    ok: bool
    imported: int = 0
    error: str = ""


def account_balance_open(*, account_id: str, customer_id: str, account_type: str = "SAVINGS",
                         currency: str = "JPY", status: str = "ACTIVE") -> AccountBalance:
    """Create the read-model row of an account if it does not exist (idempotent); returns it.

    The balance starts at zero: the opening credit and every other posting arrive as postings, imported by
    a one-account sync published after commit.
    """
    account, created = AccountBalance.objects.get_or_create(
        account_id=account_id,
        defaults={"customer_id": customer_id, "account_type": account_type, "currency": currency, "status": status,
                  "as_of": timezone.now()},
    )
    if created:
        # The opening credit and any other postings exist only in core so far: import them right after
        # commit instead of waiting for the periodic sync.
        from balance.tasks import sync_account_soon

        transaction.on_commit(lambda: sync_account_soon(account_id=account_id))
    return account


def _entry_of(posting: Posting) -> TransactionEntry:
    """The history entry that records `posting` (not saved)."""
    return TransactionEntry(
        core_transaction_id=posting.core_transaction_id, account_id=posting.account_id, type=posting.type,
        amount=posting.amount, currency=posting.currency, status=posting.status,
        description=posting.description[:255], transfer_id=posting.transfer_id,
        source_account_id=posting.source_account_id, target_account_id=posting.target_account_id,
        timestamp=posting.timestamp)


def _entry_insert(posting: Posting) -> bool:
    """Insert the posting's history entry unless core sync or an earlier step recorded it (one statement)."""
    return insert_unless_exists(_entry_of(posting))


def posting_apply(*, account: AccountBalance, posting: Posting) -> bool:
    """Record a posting and move the ledger balance by its amount, once. The caller holds the row lock
    of `account` inside an atomic block. Returns False if the posting was already recorded."""
    if posting.account_id != account.account_id:
        raise ValueError("posting belongs to another account")
    if not _entry_insert(posting):
        return False
    now = timezone.now()
    AccountBalance.objects.filter(pk=account.pk).update(ledger_balance=F("ledger_balance") + posting.amount,
                                                        as_of=now)
    # The caller holds the row lock, so the locked read plus the amount is the stored value (no re-read).
    account.ledger_balance, account.as_of = account.ledger_balance + posting.amount, now
    return True


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FEED_PAGE_SIZE = 500
FEED_MAX_PAGES = 200


def _core_postings_since(*, account_id: str, since: dt.datetime) -> tuple[list[Posting], str]:
    """Page through core's posting feed from `since` (network only). Returns the postings and an error text."""
    postings: list[Posting] = []
    after_id = ""
    for _page in range(FEED_MAX_PAGES):
        result = core_client.account_postings_after(account_id=account_id, since=since, after_id=after_id,
                                                    limit=FEED_PAGE_SIZE)
        if result.outcome is not core_client.Outcome.SUCCESS:
            return postings, result.error or f"HTTP {result.http_status}"
        page = [Posting.from_core(record) for record in (result.body or {}).get("transactions", [])]
        postings += page
        if len(page) < FEED_PAGE_SIZE:
            return postings, ""
        since, after_id = page[-1].timestamp, page[-1].core_transaction_id
    return postings, "feed longer than the sync's page limit; the next sync continues"


def account_sync_from_core(*, account_id: str) -> SyncResult:
    """Import the account's core postings not seen yet and refresh its status and core balance.

    Reads core first (no transaction open): the account, then every posting after the last imported one
    minus an overlap window (postings commit out of timestamp order by a few ms, so the window catches
    late ones; duplicates are skipped by their unique id). Then applies everything in one transaction
    under the account row lock. Core unreachable → nothing changes (the data goes stale).
    """
    account = AccountBalance.objects.filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError("Account not found", extra={"accountId": account_id})
    account_result = core_client.account_get(account_id=account_id)
    if account_result.outcome is not core_client.Outcome.SUCCESS:
        return SyncResult(account_id, ok=False, error=account_result.error or f"HTTP {account_result.http_status}")
    overlap = dt.timedelta(seconds=settings.BALANCE_SYNC_OVERLAP_SECONDS)
    since = account.core_cursor_at - overlap if account.core_cursor_at else EPOCH
    postings, error = _core_postings_since(account_id=account_id, since=since)
    if error and not postings:
        return SyncResult(account_id, ok=False, error=error)
    core_account = account_result.body or {}

    with transaction.atomic():
        account = AccountBalance.objects.select_for_update().get(account_id=account_id)
        known = set(TransactionEntry.objects.filter(
            core_transaction_id__in=[p.core_transaction_id for p in postings]
        ).values_list("core_transaction_id", flat=True))
        imported = sum(1 for posting in postings
                       if posting.core_transaction_id not in known and posting_apply(account=account, posting=posting))
        newest = max((p.timestamp for p in postings), default=account.core_cursor_at)
        AccountBalance.objects.filter(pk=account.pk).update(
            status=str(core_account.get("status") or account.status),
            account_type=str(core_account.get("accountType") or account.account_type),
            core_balance=int(core_account.get("balance", account.ledger_balance)),
            core_cursor_at=newest,
            # A partial feed (error above) is not a complete sync: the data is not confirmed current.
            core_synced_at=account.core_synced_at if error else timezone.now(),
            as_of=timezone.now() if not error or imported else account.as_of,
        )
    if imported:
        logger.info("core sync account=%s imported=%d", account_id, imported)
    return SyncResult(account_id, ok=not error, imported=imported, error=error)


def accounts_sync_all() -> list[SyncResult]:
    """Sync every known account from core (beat task and `manage.py sync_core`); one failure doesn't stop the rest."""
    return [account_sync_from_core(account_id=account_id)
            for account_id in AccountBalance.objects.order_by("account_id").values_list("account_id", flat=True)]


def account_reconcile(*, account_id: str) -> ReconciliationRun:
    """Compare the read-model ledger balance with core's balance and record the outcome (R40).

    The comparison uses the balance core reported in the same sync that imported its postings. A posting
    landing between the two core reads can show a passing difference, so a drift is re-checked once before
    it is reported. Accounts with money on hold (a leg in flight) are skipped. Drift is reported, never
    corrected here: corrections are new postings, made by people.
    """
    for _attempt in (1, 2):
        sync = account_sync_from_core(account_id=account_id)
        account = AccountBalance.objects.get(account_id=account_id)
        if not sync.ok:
            return ReconciliationRun.objects.create(account_id=account_id, ledger_balance=account.ledger_balance,
                                                    outcome="unreachable", note=sync.error[:255])
        if account.pending_debits:
            return ReconciliationRun.objects.create(account_id=account_id, ledger_balance=account.ledger_balance,
                                                    core_balance=account.core_balance, outcome="skipped",
                                                    note="transfer legs in flight")
        drift = (account.core_balance or 0) - account.ledger_balance
        if drift == 0:
            break
    if drift:
        logger.warning("reconciliation drift account=%s core=%s ledger=%d drift=%d",
                       account_id, account.core_balance, account.ledger_balance, drift)
    return ReconciliationRun.objects.create(account_id=account_id, ledger_balance=account.ledger_balance,
                                            core_balance=account.core_balance, drift=drift,
                                            outcome="drift" if drift else "match")


def accounts_reconcile_all() -> list[ReconciliationRun]:
    """Reconcile every known account (beat task every 5 minutes and `manage.py reconcile`); each outcome is
    counted in /metrics (`bank_reconciliation_checks_total`, a `drift` is a mismatch)."""
    runs = [account_reconcile(account_id=account_id)
            for account_id in AccountBalance.objects.order_by("account_id").values_list("account_id", flat=True)]
    for run in runs:
        metrics.reconciliation_observe(outcome=run.outcome)
    return runs


# --- holds for transfers in flight (R25, R38): the caller holds the row lock inside its transaction ---


def accounts_lock(*, account_ids: list[str]) -> dict[str, AccountBalance]:
    """Lock the read-model rows of `account_ids` in ascending account_id order (no deadlocks between
    transfers touching the same accounts) and return them by id; unknown ids are simply absent."""
    rows = (AccountBalance.objects.select_for_update(no_key=True)
            .filter(account_id__in=sorted(set(account_ids))).order_by("account_id"))
    return {row.account_id: row for row in rows}


# The payer's row locked and the payee's read, in one statement: the lock is taken in the CTE only (SQLite has no
# row locks; its IMMEDIATE transaction already holds the database's write lock).
_PAYER_LOCKED_PAYEE_READ = """WITH payer AS (SELECT {columns} FROM balance_accountbalance WHERE account_id = %s{lock})
SELECT 1, {payer_columns} FROM payer
UNION ALL
SELECT 2, {columns} FROM balance_accountbalance WHERE account_id = %s"""


@functools.cache
def _payer_locked_payee_read_sql(using: str) -> str:
    """_PAYER_LOCKED_PAYEE_READ for the database `using`, written out once (every accept sends it)."""
    lock = " FOR NO KEY UPDATE" if connections[using].vendor == "postgresql" else ""
    return _PAYER_LOCKED_PAYEE_READ.format(
        columns=", ".join(model_columns(AccountBalance, alias=using)), lock=lock,
        payer_columns=", ".join(model_columns(AccountBalance, alias=using, table_alias="payer")))


def account_lock_with_counterparty(*, account_id: str, counterparty_id: str
                                   ) -> tuple[AccountBalance | None, AccountBalance | None]:
    """The rows of `account_id`, locked until the transaction ends, and of `counterparty_id`, read without a lock
    (transfers to one popular account must not queue behind each other), in one round trip; None for an unknown
    account. The counterparty is read in the same statement that takes the lock, so the lock covers no extra
    round trip."""
    using = router.db_for_write(AccountBalance)
    with connections[using].cursor() as cursor:
        cursor.execute(_payer_locked_payee_read_sql(using), [account_id, counterparty_id])
        found = {role: model_from_row(AccountBalance, alias=using, values=values)
                 for role, *values in cursor.fetchall()}
    return found.get(1), found.get(2)


def account_daily_transfer_total(*, account: AccountBalance, day: dt.date) -> int | None:
    """Yen of transfers from `account` that count against the daily limit on `day`, as kept on its row (read under
    the caller's row lock); None while the row does not keep it yet."""
    if account.daily_transfer_day is None:
        return None
    return account.daily_transfer_total if account.daily_transfer_day == day else 0


def account_hold_place(*, account: AccountBalance, amount: int, counted_day: dt.date | None = None,
                       day_total_before: int = 0) -> AccountBalance:
    """Hold `amount` yen for an accepted transfer (pending_debits += amount). Caller holds the row lock.
    With `counted_day`, the same UPDATE also counts the transfer against that day's limit: the row's daily total
    becomes `day_total_before + amount` (the caller read the total under the same lock)."""
    if amount <= 0:
        raise ValueError("a hold must be a positive amount")
    if counted_day is None:
        return _pending_debits_move(account=account, delta=amount)
    day_total = day_total_before + amount
    _pending_debits_move(account=account, delta=amount,
                         also={"daily_transfer_day": counted_day, "daily_transfer_total": day_total})
    account.daily_transfer_day, account.daily_transfer_total = counted_day, day_total
    return account


def _uncounted(*, counted_day: dt.date | None, amount: int) -> dict[str, Any]:
    """UPDATE values that take a transfer that ended without moving money off the daily total of the day it was
    counted on (nothing when the row counts another day by now)."""
    if counted_day is None:
        return {}
    return {"daily_transfer_total": Case(When(daily_transfer_day=counted_day,
                                              then=F("daily_transfer_total") - Value(amount)),
                                         default=F("daily_transfer_total"), output_field=BigIntegerField())}


def account_hold_release(*, account: AccountBalance, amount: int, uncount_day: dt.date | None = None
                         ) -> AccountBalance:
    """Release a transfer's hold (withdrawal applied or transfer failed). Caller holds the row lock.
    Never goes below zero: the CHECK constraint refuses it, which would roll the caller back. `uncount_day`: the
    transfer failed, so it no longer counts against the limit of the day it was accepted on."""
    if amount <= 0:
        raise ValueError("a hold release must be a positive amount")
    return _pending_debits_move(account=account, delta=-amount,
                                also=_uncounted(counted_day=uncount_day, amount=amount))


def transfer_leg_posting_apply(*, posting: Posting, hold_release: int = 0, uncount_day: dt.date | None = None
                               ) -> bool | None:
    """A transfer leg's posting on the read model, without reading the account first: the history entry is
    inserted unless already recorded (core sync may have imported it), and the account's row moves the ledger
    balance (only for a new entry) and releases `hold_release` yen of the leg's hold, taking the row lock. One
    statement on PostgreSQL, two on SQLite. Returns None when the account has no read-model row (nothing is
    kept), else whether the posting was new.
    `uncount_day`: a refund; the transfer no longer counts against the limit of the day it was accepted on.
    Call inside the step's atomic block, after locking the transfer (the lock order of every step)."""
    if hold_release < 0:
        raise ValueError("a hold release must not be negative")
    entry = _entry_of(posting)
    changes = {"pending_debits": F("pending_debits") - hold_release, "as_of": timezone.now(),
               **_uncounted(counted_day=uncount_day, amount=abs(posting.amount))}
    only_if_new = not hold_release and uncount_day is None  # nothing to change for a posting already recorded
    if connection.vendor == "postgresql":
        created, updated = _entry_insert_and_account_update(entry, changes=changes, only_if_new=only_if_new)
    else:
        created = insert_unless_exists(entry)
        updated = 0
        if created or not only_if_new:
            updated = AccountBalance.objects.filter(account_id=posting.account_id).update(
                ledger_balance=F("ledger_balance") + (posting.amount if created else 0), **changes)
    if updated:
        return created
    if created:  # no read-model row to move: keep nothing
        TransactionEntry.objects.filter(core_transaction_id=posting.core_transaction_id).delete()
        return None
    return False if only_if_new and AccountBalance.objects.filter(account_id=posting.account_id).exists() else None


# The entry's INSERT and the account's UPDATE in one PostgreSQL statement: the UPDATE adds the entry's amount only
# if this statement inserted it (a clash returns no row from `entry`).
_ENTRY_AND_ACCOUNT = """WITH entry AS ({insert}), moved AS ({update} RETURNING 1)
SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM moved)"""
_NEW_ENTRY_AMOUNT = "(SELECT count(*) FROM entry) * %s"


def _entry_insert_and_account_update(entry: TransactionEntry, *, changes: dict[str, Any], only_if_new: bool
                                     ) -> tuple[bool, int]:
    """PostgreSQL: (whether `entry` was inserted, rows of its account updated) after one statement."""
    using = router.db_for_write(TransactionEntry)
    insert_sql, insert_params = insert_unless_exists_sql(entry, using=using)
    update = UpdateQuery(AccountBalance)
    update.add_update_values({"ledger_balance": F("ledger_balance") + RawSQL(_NEW_ENTRY_AMOUNT, (entry.amount,),
                                                                             output_field=BigIntegerField()),
                              **changes})
    update.add_q(Q(account_id=entry.account_id))
    update_sql, update_params = update.get_compiler(using=using).as_sql()
    if only_if_new:
        update_sql += " AND EXISTS (SELECT 1 FROM entry)"
    with connections[using].cursor() as cursor:
        cursor.execute(_ENTRY_AND_ACCOUNT.format(insert=insert_sql, update=update_sql),
                       [*insert_params, *update_params])
        inserted, updated = cursor.fetchone()
    return bool(inserted), int(updated)


def _pending_debits_move(*, account: AccountBalance, delta: int, also: dict[str, Any] | None = None
                         ) -> AccountBalance:
    """pending_debits += delta in one UPDATE, which also writes `also` (the daily total's columns). The caller holds
    the row lock, so the locked read plus `delta` is the stored value: no re-read inside the locked section."""
    now = timezone.now()
    AccountBalance.objects.filter(pk=account.pk).update(pending_debits=F("pending_debits") + delta, as_of=now,
                                                        **(also or {}))
    account.pending_debits, account.as_of = account.pending_debits + delta, now
    return account
