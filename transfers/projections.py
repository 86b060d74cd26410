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


def transfer_projection_apply_batch(events: Sequence[Event], *, row_in_hand: Any = None) -> None:
    """Fold one append's events (one aggregate, version order) into the `Transfer` row with at most one read and
    one write, inside the appending transaction. A saga step passes the row it locked (`row_in_hand`), so only the
    write is left; the in-hand row is updated too."""
    if isinstance(row_in_hand, Transfer) and row_in_hand.aggregate_id == events[0].aggregate_id:
        row = row_in_hand
    elif events[0].version == 1:
        row = None  # version 1 starts the aggregate: no row to read yet (one round trip less per accept)
    else:
        row = Transfer.objects.filter(aggregate_id=events[0].aggregate_id).first()
    state = transfer_state_of_row(row) if row else transfer_initial_state()
    for event in events:
        state = transfer_fold(state, event)
    values = {column: state[key] for key, column in STATE_COLUMNS.items()}
    values.update(created_at=_parse(state["createdAt"]), updated_at=_parse(state["updatedAt"]),
                  last_event_position=events[-1].position)
    if row is None:
        Transfer.objects.create(**values)
        return
    Transfer.objects.filter(pk=row.pk).update(**values)
    for column, value in values.items():
        setattr(row, column, value)


def transfer_projection_reset() -> None:
    """Empty the projection before a rebuild."""
    Transfer.objects.all().delete()
