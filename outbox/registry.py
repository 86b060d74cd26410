"""What the owning apps declare to the outbox: aggregate kinds, message handlers and projections.

The outbox never switches on a kind it does not know: apps register in `AppConfig.ready()` (or a
`handlers.py` imported there) and the event store / relay look them up here.

    register_aggregate("transfer", event_types=frozenset({...}), fold=transfer_fold, initial_state=dict)
    register_handler("withdraw", WithdrawHandler())
    register_projection("transfers.transfer_row", apply=project_transfer, reset=reset_transfers,
                        aggregate_types={"transfer"})

A handler is any object with `queue`, `max_attempts` and `deliver(message) -> Delivery`, plus optional
hooks (see `MessageHandler`). `deliver` runs outside any transaction (network I/O); the hooks run inside
the relay's short claim or settle transaction, so they may append events and enqueue follow-up rows.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from outbox.models import OutboxMessage







class UnknownMessageKindError(LookupError):
    """No app registered a handler for this outbox message kind."""


# --- aggregates -------------------------------------------------------------------------------------












# --- message handlers ---------------------------------------------------------------------------------


class DeliveryOutcome(enum.Enum):
    SUCCESS = "success"  # the effect is applied (or was already applied)
    RETRY = "retry"  # retryable or ambiguous: try again later with backoff
    FAILED = "failed"  # definitive refusal: handled by on_failure, never retried
    DEFER = "defer"  # not attempted (e.g. circuit open): back to pending without consuming an attempt


@dataclass(frozen=True)
class Delivery:
    """What a handler's `deliver` reports. Build it with the class methods."""

    outcome: DeliveryOutcome
    http_status: int | None = None
    error: str = ""
    progress: dict[str, Any] | None = None
    # What the handler learned, for its own on_success/on_failure hook (in-process only, never stored): a dict,
    # or any object the handler's hooks understand (the transfer legs pass their LegResult).
    result: Any = field(default_factory=dict)
    ambiguous: bool = False
    defer_seconds: float = 0.0
    dead_letter: bool = False

    @classmethod
    def success(cls, *, http_status: int | None = None, result: Any = None,
                progress: dict[str, Any] | None = None) -> Delivery:
        return cls(DeliveryOutcome.SUCCESS, http_status=http_status, result=result or {}, progress=progress)

    @classmethod
    def retry(cls, *, error: str, http_status: int | None = None, ambiguous: bool = False,
              progress: dict[str, Any] | None = None) -> Delivery:
        return cls(DeliveryOutcome.RETRY, http_status=http_status, error=error, ambiguous=ambiguous,
                   progress=progress)

    @classmethod
    def failed(cls, *, error: str, http_status: int | None = None, result: Any = None,
               progress: dict[str, Any] | None = None, dead_letter: bool = False) -> Delivery:
        """A definitive refusal. Normally the row ends `completed` (on_failure handled it); with
        `dead_letter=True` it ends `failed` (dead letter, alert) because only an operator can resolve it
        and a replay must stay possible (e.g. provisioning refused by core, R34)."""
        return cls(DeliveryOutcome.FAILED, http_status=http_status, error=error, result=result or {},
                   progress=progress, dead_letter=dead_letter)

    @classmethod
    def defer(cls, *, seconds: float, error: str = "") -> Delivery:
        return cls(DeliveryOutcome.DEFER, error=error, defer_seconds=seconds)


@runtime_checkable
class MessageHandler(Protocol):
    """The contract of a message handler (attributes in brackets are optional).

    queue: str                       "core" or "notify" (R17 bulkheads)
    max_attempts: int                attempts before dead-lettering (R15: 10 core legs, 20 refund, 5 mail)
    deliver(message) -> Delivery     outside any transaction; must be idempotent (at-least-once)
    [on_claim(message)]              after the claim, before delivery, with no transaction open: one service
                                     that makes its own writes atomic (e.g. append PROCESSING_STARTED); may
                                     run again after a lease reclaim
    [on_success(message, delivery)]  inside the settle transaction
    [on_failure(message, delivery)]  inside the settle transaction (definitive refusal)
    [on_dead_letter(message)]        inside the transaction that dead-letters the row
    [retry_after_lease_expiry: bool] False: a lease that expires dead-letters the row ("delivery
                                     unknown", R36 for mail) instead of delivering it again. Default True.
    """

    queue: str
    max_attempts: int

    def deliver(self, message: OutboxMessage) -> Delivery: ...


@dataclass(frozen=True)
class RegisteredHandler:
    """A handler with its optional hooks resolved once, so the relay's hot path does no lookups."""

    kind: str
    handler: Any
    queue: str
    max_attempts: int
    deliver: Callable[[OutboxMessage], Delivery]
    on_claim: Callable[[OutboxMessage], None] | None
    on_success: Callable[[OutboxMessage, Delivery], None] | None
    on_failure: Callable[[OutboxMessage, Delivery], None] | None
    on_dead_letter: Callable[[OutboxMessage], None] | None
    retry_after_lease_expiry: bool


_handlers: dict[str, RegisteredHandler] = {}


def register_handler(kind: str, handler: Any) -> RegisteredHandler:
    """Register the handler of one message kind (one handler per kind)."""
    queue = getattr(handler, "queue", None)
    max_attempts = getattr(handler, "max_attempts", None)
    if queue not in settings.OUTBOX_QUEUES:
        raise ImproperlyConfigured(f"Handler for {kind!r}: queue must be one of {settings.OUTBOX_QUEUES}.")
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise ImproperlyConfigured(f"Handler for {kind!r}: max_attempts must be a positive int.")
    if not callable(getattr(handler, "deliver", None)):
        raise ImproperlyConfigured(f"Handler for {kind!r} has no deliver(message) method.")
    existing = _handlers.get(kind)
    if existing is not None and existing.handler is not handler:
        raise ImproperlyConfigured(f"A handler for message kind {kind!r} is already registered.")
    registered = RegisteredHandler(
        kind=kind, handler=handler, queue=queue, max_attempts=max_attempts, deliver=handler.deliver,
        on_claim=getattr(handler, "on_claim", None), on_success=getattr(handler, "on_success", None),
        on_failure=getattr(handler, "on_failure", None), on_dead_letter=getattr(handler, "on_dead_letter", None),
        retry_after_lease_expiry=bool(getattr(handler, "retry_after_lease_expiry", True)),
    )
    _handlers[kind] = registered
    return registered


def handler_get(kind: str) -> RegisteredHandler:
    """The handler registered for `kind`, or UnknownMessageKindError."""
    try:
        return _handlers[kind]
    except KeyError:
        raise UnknownMessageKindError(f"No outbox handler is registered for kind {kind!r}.") from None


def handler_find(kind: str) -> RegisteredHandler | None:
    """The handler registered for `kind`, or None."""
    return _handlers.get(kind)


def unregister_handler(kind: str) -> None:
    """Remove a handler (test support)."""
    _handlers.pop(kind, None)


# --- projections --------------------------------------------------------------------------------------












