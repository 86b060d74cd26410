"""Every read of the core-banking mock (no writes here)."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q

from corebanking_mock.errors import AccountNotFound, CustomerNotFound, IdempotencyKeyUnknown, TransactionNotFound
from corebanking_mock.models import Account, Customer, IdempotencyRecord, Posting

TRANSACTION_LIST_LIMIT = 50


def customer_get(*, customer_id: str) -> Customer:
    """The stored customer. Raises CustomerNotFound (404) for an unknown id, where the
    original answered with made-up sample data (api.md §8)."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


def account_get(*, account_id: str) -> Account:
    """The stored account. Raises AccountNotFound (404)."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise AccountNotFound(account_id)
    return account


def posting_list_for_account(*, account_id: str, limit: int = TRANSACTION_LIST_LIMIT) -> list[Posting]:
    """The account's newest postings first (at most `limit`); an unknown account simply has none (§6.2)."""
    return list(Posting.objects.filter(account_id=account_id).order_by("-timestamp", "-transaction_id")[:limit])


def posting_feed_for_account(*, account_id: str, since: dt.datetime, after_id: str = "",
                             limit: int = TRANSACTION_LIST_LIMIT) -> list[Posting]:
    """The account's postings in ascending (timestamp, id) order after the cursor (`since`, `after_id`): a
    complete, stable feed for the bank's read-model sync (the newest-50 list cannot give every posting)."""
    after_cursor = Q(timestamp__gt=since) | Q(timestamp=since, transaction_id__gt=after_id)
    return list(Posting.objects.filter(after_cursor, account_id=account_id)
                .order_by("timestamp", "transaction_id")[:limit])


def posting_get(*, transaction_id: str) -> Posting:
    """One stored posting. Raises TransactionNotFound (404) (the original fabricated a sample or failed)."""
    posting = Posting.objects.filter(pk=transaction_id).first()
    if posting is None:
        raise TransactionNotFound(transaction_id)
    return posting


def idempotency_record_get(*, key: str) -> IdempotencyRecord:
    """The record stored under an Idempotency-Key (R22). Raises IdempotencyKeyUnknown (404)."""
    record = IdempotencyRecord.objects.filter(pk=key).first()
    if record is None:
        raise IdempotencyKeyUnknown(key)
    return record
