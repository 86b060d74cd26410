"""Every read of transfers: the customer's status view, the staff timeline (with time travel), admin lists."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import NotFoundError
from outbox.eventstore.models import Event
from outbox.eventstore.selectors import aggregate_load, events_for_aggregate
from transfers import events as ev
from transfers import saga
from transfers.models import Transfer

TRANSACTION_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
CUSTOMER_NOT_FOUND_MESSAGE = "振込が見つかりません。"


def transfer_get_for_owner(*, transaction_id: str, customer_id: str | None) -> Transfer:
    """The transfer if the caller's customer paid it (R29); others and unknown ids get the same 404."""
    transfer = None
    if TRANSACTION_ID_PATTERN.match(transaction_id or ""):
        transfer = Transfer.objects.filter(transaction_id=transaction_id).first()
    if transfer is None or not customer_id or transfer.customer_id != customer_id:
        raise NotFoundError(CUSTOMER_NOT_FOUND_MESSAGE, code="TRANSFER_NOT_FOUND")
    return transfer


def transfer_get(*, transaction_id: str) -> Transfer | None:
    if not TRANSACTION_ID_PATTERN.match(transaction_id or ""):
        return None
    return Transfer.objects.filter(transaction_id=transaction_id).first()


@dataclass(frozen=True)
class TransferTimeline:
    """Events of one transfer up to `as_of` and the state folded from them (R10, R11)."""

    events: list[Event]
    state: dict[str, Any]


def transfer_timeline(*, transaction_id: str, as_of: dt.datetime | None = None) -> TransferTimeline | None:
    """Exact id match (api.md §8: no substring scan); None when there are no events (by `as_of`)."""
    if not TRANSACTION_ID_PATTERN.match(transaction_id or ""):
        return None
    aggregate_id = ev.aggregate_id_for(transaction_id)
    events = events_for_aggregate(aggregate_id=aggregate_id, as_of=as_of)
    if not events:
        return None
    loaded = aggregate_load(aggregate_id=aggregate_id, version=events[-1].version)
    return TransferTimeline(events=events, state=loaded.state if loaded else {})


def transfer_list_needing_attention(*, older_than_seconds: int | None = None) -> QuerySet[Transfer]:
    """Non-terminal transfers received more than the stuck threshold ago (§5.10), oldest first."""
    seconds = settings.TRANSFER_STUCK_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    return Transfer.objects.filter(terminal=False, created_at__lt=cutoff).order_by("created_at")


def transfer_in_suspense(transfer: Transfer) -> bool:
    """Withdrawal applied, money not yet deposited or refunded (I1 suspense)."""
    return transfer.phase in saga.SUSPENSE_PHASES
