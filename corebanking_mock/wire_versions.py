"""The mock's second wire version ("v2", CORE_MOCK_WIRE=v2): the same routes and behaviour with renamed JSON
fields, standing in for a new release of the external core-banking API. Used by the replaceability experiment
(resilience E8): the bank talks to it through a different codec of its adapter and nothing else.

Requests are translated v2 → v1 before the views read them and answers v1 → v2 after, at every depth (lists of
postings, the stored answer inside an idempotency record, per-field errors). The fault-control routes are the
harness's own channel and are never translated.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings

V1_TO_V2: dict[str, str] = {
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
V2_TO_V1: dict[str, str] = {v2: v1 for v1, v2 in V1_TO_V2.items()}


def renamed(value: Any, names: dict[str, str]) -> Any:
    """`value` with every dict key found in `names` renamed, at every depth; other keys and values unchanged."""
    if isinstance(value, dict):
        return {names.get(key, key): renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, names) for item in value]
    return value


def request_from_v2(body: dict[str, Any]) -> dict[str, Any]:
    """A v2 request body in the views' (v1) names. v1 names are not part of v2: they are dropped, so a client that
    still speaks v1 gets the same 400 as for a missing field."""
    return renamed({key: value for key, value in body.items() if key not in V1_TO_V2}, V2_TO_V1)


def wire_is_v2() -> bool:
    return getattr(settings, "CORE_MOCK_WIRE", "v1") == "v2"
