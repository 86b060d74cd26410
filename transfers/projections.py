"""The transfer aggregate's fold (R9) and the `Transfer` projection fed from it in the appending transaction.

`transfer_fold` is pure and JSON-native (snapshots and time travel use it); the projection row is the
same state stored in columns, so a rebuild (`manage.py rebuild_projections`) gives identical rows.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils.dateparse import parse_datetime

from outbox.eventstore.models import Event
from outbox.eventstore.registry import ProjectionRowWrite
from transfers import events as ev
from transfers import saga
from transfers.models import Transfer

PROJECTION_NAME = "transfers.transfer_row"


def transfer_initial_state() -> dict[str, Any]:
    return {"transactionId": "", "aggregateId": "", "customerId": "", "sourceAccountId": "", "targetAccountId": "",
            "amount": 0, "description": "", "status": "", "leg": None, "phase": saga.NEW, "version": 0,
            "terminal": False, "withdrawn": False, "withdrawCoreId": "", "depositCoreId": "", "refundCoreId": "",
            "createdAt": None, "updatedAt": None}


def _core_id(event: Event) -> str:
    result = event.data.get("result") or {}
    return str(result.get("coreTransactionId") or "")


def transfer_fold(state: dict[str, Any], event: Event) -> dict[str, Any]:
    """State after one event. Follows saga.TRANSITIONS; an out-of-table event (never written by the
    services) keeps the phase so old data still folds."""
    state = dict(state)
    recorded = event.recorded_at.isoformat() if event.recorded_at else None
    if event.type in (ev.TRANSFER_REQUESTED, ev.TRANSFER_REJECTED):
        data = event.data
        state.update(transactionId=data.get("transactionId", ""), aggregateId=event.aggregate_id,
                     customerId=str((event.metadata or {}).get("customerId") or ""),
                     sourceAccountId=data.get("sourceAccountId", ""), targetAccountId=data.get("targetAccountId", ""),
                     amount=int(data.get("amount") or 0), description=data.get("description", ""), createdAt=recorded)
    try:
        state["phase"] = saga.next_phase(state["phase"], event.type, event.status)
    except saga.IllegalTransitionError:
        pass
    state["status"] = event.status
    if event.leg:
        state["leg"] = event.leg
    state["version"] = event.version
    state["updatedAt"] = recorded
    state["terminal"] = saga.is_terminal(state["phase"])
    succeeded = event.status == ev.STATUS_COMPLETED
    if event.type == ev.WITHDRAW_PROCESSED and succeeded:
        state["withdrawn"], state["withdrawCoreId"] = True, _core_id(event)
    elif event.type == ev.DEPOSIT_PROCESSED and succeeded:
        state["depositCoreId"] = _core_id(event)
    elif event.type == ev.COMPENSATION_PROCESSED and succeeded:
        state["refundCoreId"] = _core_id(event)
    return state


def _parse(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


STATE_COLUMNS = {
    "transactionId": "transaction_id", "aggregateId": "aggregate_id", "customerId": "customer_id",
    "sourceAccountId": "source_account_id", "targetAccountId": "target_account_id", "amount": "amount",
    "description": "description", "status": "status", "leg": "leg", "phase": "phase", "version": "version",
    "terminal": "terminal", "withdrawn": "withdrawn", "withdrawCoreId": "withdraw_core_id",
    "depositCoreId": "deposit_core_id", "refundCoreId": "refund_core_id",
}


def transfer_state_of_row(row: Transfer) -> dict[str, Any]:
    """The fold state a projection row stands for (inverse of the projection)."""
    state = {key: getattr(row, column) for key, column in STATE_COLUMNS.items()}
    state["createdAt"] = row.created_at.isoformat() if row.created_at else None
    state["updatedAt"] = row.updated_at.isoformat() if row.updated_at else None
    return state


def transfer_projection_apply(event: Event) -> None:
    """Fold one event into the `Transfer` row (rebuilds replay events one by one)."""
    transfer_projection_apply_batch([event])


def _row_of_append(events: Sequence[Event], row_in_hand: Any) -> Transfer | None:
    """The caller's copy of the row these events fold into, if it passed that one."""
    if isinstance(row_in_hand, Transfer) and row_in_hand.aggregate_id == events[0].aggregate_id:
        return row_in_hand
    return None


def _folded_columns(row: Transfer | None, events: Sequence[Event]) -> dict[str, Any]:
    """The state columns after folding `events` into `row` (a new transfer when None)."""
    state = transfer_state_of_row(row) if row else transfer_initial_state()
    for event in events:
        state = transfer_fold(state, event)
    return {column: state[key] for key, column in STATE_COLUMNS.items()}


def transfer_projection_apply_batch(events: Sequence[Event], *, row_in_hand: Any = None) -> None:
    """Fold one append's events (one aggregate, version order) into the `Transfer` row with at most one read and
    one write, inside the appending transaction. A saga step passes the row it locked (`row_in_hand`), so only the
    write is left; the in-hand row is updated too."""
    row = _row_of_append(events, row_in_hand)
    if row is None and events[0].version != 1:  # version 1 starts the aggregate: no row to read yet
        row = Transfer.objects.filter(aggregate_id=events[0].aggregate_id).first()
    values = _folded_columns(row, events)
    created_at = row.created_at if row else events[0].recorded_at
    values.update(created_at=created_at, updated_at=events[-1].recorded_at, last_event_position=events[-1].position)
    if row is None:
        Transfer.objects.create(**values)
        return
    Transfer.objects.filter(pk=row.pk).update(**values)
    for column, value in values.items():
        setattr(row, column, value)


def transfer_row_write(events: Sequence[Event], *, row_in_hand: Any = None) -> ProjectionRowWrite | None:
    """On PostgreSQL the append's statement writes the `Transfer` row itself: a new transfer's row, or the row the
    saga step holds. The events are not stored yet, so the fold sees no times or positions; the statement stamps
    the append's time and last position. None (then `transfer_projection_apply_batch`) when the row would have to
    be read first."""
    row = _row_of_append(events, row_in_hand)
    if row is None and events[0].version != 1:
        return None
    if row is None:
        return ProjectionRowWrite(model=Transfer, values=_folded_columns(None, events), pk=None,
                                  clock_fields=("created_at", "updated_at"), position_field="last_event_position")
    return ProjectionRowWrite(model=Transfer, values=_folded_columns(row, events), pk=row.pk,
                              clock_fields=("updated_at",), position_field="last_event_position", instance=row)


def transfer_projection_reset() -> None:
    """Empty the projection before a rebuild."""
    Transfer.objects.all().delete()
