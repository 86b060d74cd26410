"""Reads of the query side: balances and postings from the local read model, never from core banking."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from balance.models import AccountBalance, TransactionEntry
from config.errors import NotFoundError

ACCOUNT_NOT_FOUND_MESSAGE = "口座が見つかりません。口座番号をご確認ください。"


def account_get_for_owner(*, account_id: str, customer_id: str | None) -> AccountBalance:
    """The balance row of `account_id` if it belongs to `customer_id`.

    Unknown accounts and other customers' accounts get the same 404, so the answer reveals nothing
    about which account numbers exist.
    """
    account = AccountBalance.objects.filter(account_id=account_id).first()
    if account is None or not customer_id or account.customer_id != customer_id:
        raise NotFoundError(ACCOUNT_NOT_FOUND_MESSAGE, code="ACCOUNT_NOT_FOUND")
    return account


@dataclass(frozen=True)
class EntryRow:
    """The columns of a posting that the wire shows (a light stand-in for a TransactionEntry)."""

    core_transaction_id: str
    timestamp: dt.datetime
    type: str
    amount: int
    status: str
    description: str
    source_account_id: str
    target_account_id: str
    transfer_id: str


@dataclass(frozen=True)
class BalanceCard:
    """What the balance route shows: the account, its newest postings, and how many there are up to a cap."""

    account: AccountBalance
    recent: list[EntryRow]
    entry_count: int


_ACCOUNT_COLUMNS = ("account_id", "customer_id", "account_type", "currency", "status", "ledger_balance",
                    "pending_debits", "as_of", "core_synced_at")
_ENTRY_COLUMNS = ("core_transaction_id", "timestamp", "type", "amount", "status", "description",
                  "source_account_id", "target_account_id", "transfer_id")
# One statement (PostgreSQL and SQLite): the owner's account row, joined to its newest `recent` postings out of
# the newest `cap`, each carrying the count of those `cap` (a window count); an account without postings
# still gives one row, with NULL posting columns.
_BALANCE_CARD_SQL = (
    f"SELECT {', '.join(f'a.{column}' for column in _ACCOUNT_COLUMNS)}, "
    f"{', '.join(f'e.{column}' for column in _ENTRY_COLUMNS)}, e.entry_count "
    f"FROM {AccountBalance._meta.db_table} a LEFT JOIN ("
    f"SELECT capped.*, COUNT(*) OVER () AS entry_count FROM ("
    f"SELECT id, {', '.join(_ENTRY_COLUMNS)} FROM {TransactionEntry._meta.db_table} "
    "WHERE account_id = %(account_id)s ORDER BY timestamp DESC, id DESC LIMIT %(cap)s) capped"
    ") e ON 1 = 1 "
    "WHERE a.account_id = %(account_id)s AND a.customer_id = %(customer_id)s "
    "ORDER BY e.timestamp DESC, e.id DESC LIMIT %(recent)s"
)


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """A UTC datetime from a raw cursor (SQLite may hand back text or a naive UTC value)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def balance_card_for_owner(*, account_id: str, customer_id: str | None, recent: int, cap: int) -> BalanceCard:
    """The balance card of `account_id` if it belongs to `customer_id`, in one statement; same 404 as
    `account_get_for_owner` otherwise. `entry_count` is the number of postings, counted up to `cap`."""
    if not customer_id:
        raise NotFoundError(ACCOUNT_NOT_FOUND_MESSAGE, code="ACCOUNT_NOT_FOUND")
    with connection.cursor() as cursor:
        cursor.execute(_BALANCE_CARD_SQL, {"account_id": account_id, "customer_id": customer_id, "cap": cap,
                                           "recent": recent})
        rows = cursor.fetchall()
    if not rows:
        raise NotFoundError(ACCOUNT_NOT_FOUND_MESSAGE, code="ACCOUNT_NOT_FOUND")
    width = len(_ACCOUNT_COLUMNS)
    fields = dict(zip(_ACCOUNT_COLUMNS, rows[0][:width], strict=True))
    account = AccountBalance(**fields | {"as_of": _aware(fields["as_of"]),
                                         "core_synced_at": _aware(fields["core_synced_at"])})
    entries = []
    for row in rows:
        entry = dict(zip(_ENTRY_COLUMNS, row[width:-1], strict=True))
        if entry["core_transaction_id"] is not None:
            entries.append(EntryRow(**entry | {"timestamp": _aware(entry["timestamp"])}))
    return BalanceCard(account=account, recent=entries, entry_count=rows[0][-1] or 0)


def transactions_for_account(*, account_id: str) -> QuerySet[TransactionEntry]:
    """Postings of one account, newest first (uses the (account_id, -timestamp, -id) index)."""
    return TransactionEntry.objects.filter(account_id=account_id).order_by("-timestamp", "-id")


def transaction_list_of_types(*, types: Iterable[str]) -> QuerySet[TransactionEntry]:
    """Postings of the given types across all accounts (the transfer invariants aggregate them)."""
    return TransactionEntry.objects.filter(type__in=list(types))


def account_list_pending_debits() -> QuerySet:
    """`(account_id, pending_debits)` of every account: the holds the read model carries."""
    return AccountBalance.objects.values_list("account_id", "pending_debits")


def account_is_stale(*, account: AccountBalance, now: dt.datetime | None = None) -> bool:
    """True when core banking has not been synced for longer than BALANCE_STALE_AFTER_SECONDS."""
    if account.core_synced_at is None:
        return True
    now = now or timezone.now()
    return (now - account.core_synced_at).total_seconds() > settings.BALANCE_STALE_AFTER_SECONDS


@dataclass(frozen=True)
class PostingAsOf:
    """One posting of an account's history as of a time, with the balance right after it."""

    entry: TransactionEntry
    balance_after: int


@dataclass(frozen=True)
class AccountAsOf:
    """An account's balance and latest postings as they stood at `as_of`, rebuilt from the postings."""

    account_id: str
    as_of: dt.datetime
    balance: int
    posting_count: int
    postings: list[PostingAsOf]


def account_as_of(*, account_id: str, as_of: dt.datetime, limit: int = 50) -> AccountAsOf:
    """Balance at `as_of` = the sum of the postings dated at or before it (the read model opens an account at
    zero and every movement, the opening credit included, is a posting), plus the newest `limit` of those
    postings with the running balance after each.

    Dated by the posting's own time: a posting imported late still counts from the moment core booked it, so
    this is the history as known now, not as the bank's screens showed it then.
    """
    entries = TransactionEntry.objects.filter(account_id=account_id, timestamp__lte=as_of)
    totals = entries.aggregate(balance=Sum("amount"), count=Count("id"))
    balance = totals["balance"] or 0
    postings, running = [], balance
    for entry in entries.order_by("-timestamp", "-id")[:limit]:
        postings.append(PostingAsOf(entry=entry, balance_after=running))
        running -= entry.amount
    return AccountAsOf(account_id=account_id, as_of=as_of, balance=balance, posting_count=totals["count"],
                       postings=postings)
