"""Wire codec of core-banking API v2: the same routes and meanings as v1 with renamed JSON fields. Requests are
sent in v2 names and answers read back into the bank's names, so every caller keeps reading the same
`CoreResult` bodies. Selected with CORE_BANKING_WIRE_CODEC=outbox.core_banking.wire_v2."""
from __future__ import annotations

from typing import Any

BANK_TO_V2: dict[str, str] = {
    "customerId": "customer_ref",
    "accountId": "account_ref",
    "transactionId": "posting_ref",
    "transferId": "transfer_ref",
    "sourceAccountId": "source_account_ref",
    "targetAccountId": "target_account_ref",
    "amount": "amount_yen",
    "balance": "balance_yen",
    "newBalance": "balance_after_yen",
    "transactions": "postings",
    "transactionType": "posting_type",
    "customerInfo": "customer_profile",
    "status": "lifecycle",
    "statusCode": "answer_status",
    "response": "answer",
}
V2_TO_BANK: dict[str, str] = {v2: bank for bank, v2 in BANK_TO_V2.items()}


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {names.get(key, key): _renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return value


def request_body(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON body to send, in v2 names."""
    return _renamed(body, BANK_TO_V2)


def answer_body(body: dict[str, Any]) -> dict[str, Any]:
    """The core's v2 answer in the bank's names (at every depth: postings, stored answers, field errors)."""
    return _renamed(body, V2_TO_BANK)
