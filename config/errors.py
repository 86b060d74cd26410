"""The one application error type. Services raise subclasses; config/api.py renders them."""
from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal the caller can act on: stable `code`, HTTP status, a human message and extra wire keys."""

    code: str = "APPLICATION_ERROR"
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    code = "NOT_FOUND"
    http_status = 404


class ConflictError(ApplicationError):
    """A state conflict: the object changed under the caller (lost a version race) or a key was reused."""

    code = "CONFLICT"
    http_status = 409


class ConcurrencyError(ConflictError):
    """Optimistic concurrency: the expected aggregate version is stale."""

    code = "VERSION_CONFLICT"
