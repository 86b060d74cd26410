"""Wire shapes of the core-banking mock (api.md §6.2-6.4): raw JSON objects, camelCase keys.

Used by the views and by the services (an idempotency record stores the exact body it answered).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from config.api import iso_time
from corebanking_mock.models import Account, Customer, IdempotencyRecord, Posting, PostingType

SEED_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def customer_to_wire(customer: Customer) -> dict[str, Any]:
    """A stored customer; seeded ones have lastName/firstName and no profile data (§6.3)."""
    if customer.seeded:
        return {
            "customerId": customer.customer_id,
            "lastName": customer.last_name,
            "firstName": customer.first_name,
            "email": customer.email,
            "phone": customer.phone,
            "status": customer.status,
            "createdAt": iso_time(customer.created_at),
            "updatedAt": iso_time(customer.updated_at),
        }
    return {
        "customerId": customer.customer_id,
        "name": customer.name,
        "kana": customer.kana,
        "email": customer.email,
        "phone": customer.phone,
        "birthDate": customer.birth_date,
        "address": {"postalCode": customer.postal_code, "address": customer.address},
        "identityDocument": {"type": customer.id_type, "number": customer.id_number},
        "status": customer.status,
        "createdAt": iso_time(customer.created_at),
        "updatedAt": iso_time(customer.updated_at),
    }


def account_to_wire(account: Account) -> dict[str, Any]:
    """A stored account; seeded ones have branchName and no accountNumber (§6.3)."""
    body: dict[str, Any] = {"accountId": account.account_id}
    if account.seeded:
        body |= {"customerId": account.customer_id, "branchCode": account.branch_code,
                 "branchName": account.branch_name}
    else:
        body |= {"accountNumber": account.account_id, "customerId": account.customer_id}
    body |= {
        "accountType": account.account_type,
        "balance": account.balance,
        "currency": account.currency,
        "status": account.status,
    }
    if not account.seeded:
        body["branchCode"] = account.branch_code
    body |= {"createdAt": iso_time(account.created_at), "updatedAt": iso_time(account.updated_at)}
    return body


def _posting_time(posting: Posting, value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime(SEED_TIME_FORMAT) if posting.seeded else iso_time(value)


def posting_to_wire(posting: Posting) -> dict[str, Any]:
    """A stored transaction record (§6.4) with its transfer keys when it has them."""
    body: dict[str, Any] = {
        "transactionId": posting.transaction_id,
        "accountId": posting.account_id,
        "type": posting.type,
        "amount": posting.amount,
        "currency": posting.currency,
        "status": posting.status,
        "description": posting.description,
        "timestamp": _posting_time(posting, posting.timestamp),
        "processedAt": _posting_time(posting, posting.processed_at),
    }
    if posting.type in (PostingType.TRANSFER_DEPOSIT, PostingType.TRANSFER_REFUND):
        body["sourceAccountId"] = posting.source_account_id
    if posting.type == PostingType.TRANSFER_WITHDRAWAL:
        body["targetAccountId"] = posting.target_account_id
    if posting.transfer_id is not None:
        body["transferId"] = posting.transfer_id
    if posting.transfer_type is not None:
        body["transferType"] = posting.transfer_type
    return body


def idempotency_record_to_wire(record: IdempotencyRecord) -> dict[str, Any]:
    """What `GET /api/idempotency/{key}` answers (R22)."""
    return {
        "key": record.key,
        "state": record.state,
        "statusCode": record.status_code,
        "response": record.response_body,
        "createdAt": iso_time(record.created_at),
    }
