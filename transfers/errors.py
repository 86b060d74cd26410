"""What the transfer services refuse with: each error carries the stable `code` and HTTP status the API answers."""
from __future__ import annotations

from config.errors import ApplicationError, ConflictError, NotFoundError


class TransferInvalidError(ApplicationError):
    code = "INVALID_TRANSFER"
    http_status = 400


class TransferForbiddenError(ApplicationError):
    """The source account is not the caller's: nothing is written."""

    code = "SOURCE_ACCOUNT_FORBIDDEN"
    http_status = 403


class InsufficientFundsError(ApplicationError):
    """Available balance (ledger − holds) is below the amount; a TransferRejected event was committed."""

    code = "INSUFFICIENT_BALANCE"
    http_status = 400


class TransferNotFoundError(NotFoundError):
    code = "TRANSFER_NOT_FOUND"


class LegStillInFlightError(ConflictError):
    """The leg's outbox row is not dead-lettered: wait for it, or for its dead letter."""

    code = "LEG_IN_FLIGHT"


class CoreUnavailableError(ApplicationError):
    code = "CORE_UNAVAILABLE"
    http_status = 503
