"""Refusals of the core-banking mock, rendered as `{"error": "<text>", ...extra}` (api.md §6.1).

`BusinessRefusal` subclasses are business answers: the idempotency layer stores them like a success, so a
repeat of the same request gets the same answer (R21). The other errors are about the request or the key
and are never stored.
"""
from __future__ import annotations

from config.errors import ApplicationError, ConflictError, NotFoundError


class BusinessRefusal(ApplicationError):
    """A definitive business answer (stored under the request's Idempotency-Key)."""


class AccountNotFound(BusinessRefusal, NotFoundError):
    code = "ACCOUNT_NOT_FOUND"

    def __init__(self, account_id: str) -> None:
        super().__init__("Account not found", extra={"accountId": account_id})


class AccountNotActive(BusinessRefusal, ConflictError):
    code = "ACCOUNT_NOT_ACTIVE"

    def __init__(self, account_id: str, status: str) -> None:
        super().__init__("Account is not active", extra={"accountId": account_id, "status": status})


class InsufficientBalance(BusinessRefusal):
    code = "INSUFFICIENT_BALANCE"
    http_status = 400

    def __init__(self, current_balance: int, requested_amount: int, *, lost_race: bool = False) -> None:
        message = "Insufficient balance or account not found" if lost_race else "Insufficient balance"
        super().__init__(message, extra={"currentBalance": current_balance, "requestedAmount": requested_amount})


class CustomerNotFound(NotFoundError):
    code = "CUSTOMER_NOT_FOUND"

    def __init__(self, customer_id: str) -> None:
        super().__init__("Customer not found", extra={"customerId": customer_id})


class TransactionNotFound(NotFoundError):
    code = "TRANSACTION_NOT_FOUND"

    def __init__(self, transaction_id: str) -> None:
        super().__init__("Transaction not found", extra={"transactionId": transaction_id})


class IdempotencyKeyUnknown(NotFoundError):
    code = "IDEMPOTENCY_KEY_NOT_FOUND"

    def __init__(self, key: str) -> None:
        super().__init__("Idempotency key not found", extra={"key": key})


class IdempotencyKeyReused(ApplicationError):
    """Same key, different request (R21): 422."""

    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 422

    def __init__(self, key: str) -> None:
        super().__init__("Idempotency-Key was already used for a different request", extra={"key": key})


class IdempotencyKeyVoided(ConflictError):
    """The key was voided (R22): nothing may ever apply under it."""

    code = "IDEMPOTENCY_KEY_VOIDED"

    def __init__(self, key: str) -> None:
        super().__init__("Idempotency-Key has been voided", extra={"key": key, "state": "voided"})


class IdempotencyKeyAlreadyApplied(ConflictError):
    """A void came too late: the key already has a stored answer (R22)."""

    code = "IDEMPOTENCY_KEY_APPLIED"

    def __init__(self, key: str, status_code: int | None, response: object) -> None:
        super().__init__("Idempotency-Key was already applied",
                         extra={"key": key, "state": "applied", "statusCode": status_code, "response": response})


class EndpointNotFound(NotFoundError):
    """Any path or method the mock does not serve (api.md §6.2)."""

    code = "ENDPOINT_NOT_FOUND"

    def __init__(self, path: str, method: str) -> None:
        super().__init__("Endpoint not found", extra={"path": path, "method": method})


class Unauthorized(ApplicationError):
    code = "UNAUTHORIZED"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class InjectedFault(ApplicationError):
    """An answer produced by fault injection (500, 503 or 504), never by the business logic."""

    code = "INJECTED_FAULT"

    def __init__(self, message: str, *, http_status: int, fault: str) -> None:
        super().__init__(message, http_status=http_status, extra={"fault": fault})
