"""Client-side idempotency of commands (flows.md R30; style: unique (owner, Idempotency-Key)).

Inside the command's own `transaction.atomic(durable=True)`:

    replay = request_idempotency_claim(scope="transfer", owner=user.public_id, key=key, fingerprint=fp)
    if replay is not None:
        return replay                      # the first answer: (status_code, body)
    ... the command's effects ...
    request_idempotency_store(scope=..., owner=..., key=..., status_code=202, body=body)

The claim inserts the key row first, so a concurrent request with the same key waits on the unique index
until the first commits and then replays its answer (on PostgreSQL; SQLite serialises writers anyway). If
the first rolls back, its row disappears with it and the second proceeds. The same key with another body
→ 422. Keys older than IDEMPOTENCY_KEY_TTL_SECONDS (24 h) are forgotten and the request is new again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.errors import ApplicationError
from outbox.models import IdempotentRequest

KEY_MAX_LENGTH = 255


class IdempotencyKeyReusedError(ApplicationError):
    """The same Idempotency-Key came with a different request body."""

    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 422


class IdempotencyKeyInvalidError(ApplicationError):
    code = "IDEMPOTENCY_KEY_INVALID"
    http_status = 400


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


def request_fingerprint(body: Any) -> str:
    """sha256 of the canonical JSON of the request body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_key_validate(raw: str | None) -> str | None:
    """None when no header was sent; the key when it is 1–255 visible ASCII characters; else 400."""
    if raw is None:
        return None
    if not 1 <= len(raw) <= KEY_MAX_LENGTH or not all(0x21 <= ord(char) <= 0x7E for char in raw):
        raise IdempotencyKeyInvalidError("Idempotency-Key must be 1-255 visible ASCII characters")
    return raw


def request_idempotency_claim(*, scope: str, owner: str, key: str, fingerprint: str) -> StoredAnswer | None:
    """Claim `key` for this request inside the caller's atomic block; return the stored answer of an
    earlier request with the same key (and body), or None when this request is the first."""
    if not connection.in_atomic_block:
        raise RuntimeError("request_idempotency_claim must run inside the command's transaction")
    cutoff = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    IdempotentRequest.objects.filter(scope=scope, owner=owner, key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            IdempotentRequest.objects.create(scope=scope, owner=owner, key=key, fingerprint=fingerprint)
        return None
    except IntegrityError:
        pass
    existing = IdempotentRequest.objects.get(scope=scope, owner=owner, key=key)
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReusedError("Idempotency-Key was already used with a different request",
                                        extra={"idempotencyKey": key})
    return StoredAnswer(status_code=existing.status_code or 200, body=existing.response_body)


def request_idempotency_store(*, scope: str, owner: str, key: str, status_code: int, body: Any) -> None:
    """Store the answer of the request that claimed `key` (same transaction as its effects)."""
    IdempotentRequest.objects.filter(scope=scope, owner=owner, key=key).update(status_code=status_code,
                                                                              response_body=body)


def request_idempotency_purge() -> int:
    """Delete keys older than the TTL (maintenance); returns how many."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
