"""Reads of the query side: balances and postings from the local read model, never from core banking."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from balance.models import AccountBalance, TransactionEntry
from config.errors import NotFoundError

ACCOUNT_NOT_FOUND_MESSAGE = "口座が見つかりません。口座番号をご確認ください。"


def account_find(*, account_id: str) -> AccountBalance | None:
    """The balance row of `account_id`, unlocked, or None (e.g. a transfer target's status check)."""
    return AccountBalance.objects.filter(account_id=account_id).first()


def account_get_for_owner(*, account_id: str, customer_id: str | None) -> AccountBalance:
    """The balance row of `account_id` if it belongs to `customer_id`.

    Unknown accounts and other customers' accounts get the same 404, so the answer reveals nothing
    about which account numbers exist.
    """
    account = AccountBalance.objects.filter(account_id=account_id).first()
    if account is None or not customer_id or account.customer_id != customer_id:
        raise NotFoundError(ACCOUNT_NOT_FOUND_MESSAGE, code="ACCOUNT_NOT_FOUND")
    return account


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
