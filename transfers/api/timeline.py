"""The staff transfer viewer's wire shape (api.md §3.3, flows.md R11): one entry per stored event in version
order, with `version` and `leg` added; the first entry carries a `processHistory` synthesised from all
events so the original screen still draws its timeline. Failure entries carry only `message` and `code`."""
from __future__ import annotations

from typing import Any

from django.utils import timezone

from config.api import iso_time
from outbox.eventstore.models import Event
from transfers import events as ev
from transfers.selectors import TransferTimeline


def formatted_timestamp(event: Event) -> str:
    """`YYYY/M/D H:mm:ss` without zero padding of month/day/hour, in the server time zone."""
    local = timezone.localtime(event.recorded_at)
    return f"{local.year}/{local.month}/{local.day} {local.hour}:{local.minute:02d}:{local.second:02d}"


def _processed_entry(event: Event) -> dict[str, Any]:
    data = event.data or {}
    entry: dict[str, Any] = {"success": bool(data.get("success"))}
    if data.get("success"):
        entry["result"] = data.get("result") or {}
    else:
        error = data.get("error") or {}
        entry["error"] = {"message": error.get("message", ""), "code": error.get("code", "UNKNOWN_ERROR")}
    return entry


def history_entry(event: Event) -> dict[str, Any]:
    """One processHistory entry (api.md §3.3 table; new events in the same style)."""
    data = event.data or {}
    base = {"status": event.status, "timestamp": iso_time(event.recorded_at)}
    kind = event.type
    if kind == ev.TRANSFER_REQUESTED:
        return {**base, "type": kind, "details": {"sourceAccountId": data.get("sourceAccountId"),
                                                   "targetAccountId": data.get("targetAccountId"),
                                                   "amount": data.get("amount")}}
    if kind == ev.TRANSFER_REJECTED:
        return {**base, "type": kind, "reason": data.get("reason", ev.REASON_INSUFFICIENT_BALANCE)}
    if kind == ev.WITHDRAW_REQUESTED:
        return {**base, "type": "WITHDRAW_REQUESTED", "outboxRecordId": data.get("outboxRecordId"),
                "sourceAccountId": data.get("sourceAccountId"), "targetAccountId": data.get("targetAccountId"),
                "amount": data.get("amount")}
    if kind == ev.DEPOSIT_REQUESTED:
        return {**base, "type": "DEPOSIT_REQUESTED", "outboxRecordId": data.get("outboxRecordId"),
                "accountId": data.get("accountId"), "amount": data.get("amount")}
    if kind == ev.COMPENSATION_REQUESTED:
        return {**base, "type": "COMPENSATION_REQUESTED", "outboxRecordId": data.get("outboxRecordId"),
                "accountId": data.get("accountId"), "amount": data.get("amount"), "reason": data.get("reason")}
    if kind == ev.PROCESSING_STARTED:
        return {**base, "type": kind, "leg": event.leg}
    if kind in (ev.WITHDRAW_PROCESSED, ev.DEPOSIT_PROCESSED, ev.COMPENSATION_PROCESSED):
        return {**base, "type": kind, **_processed_entry(event)}
    if kind == ev.TRANSFER_FAILED:
        return {**base, "type": kind, "reason": data.get("reason")}
    return {**base, "type": kind}


def timeline_body(timeline: TransferTimeline) -> dict[str, Any]:
    events = timeline.events
    history = [history_entry(event) for event in events]
    items = [{
        "type": event.type, "status": event.status, "timestamp": iso_time(event.recorded_at),
        "formattedTimestamp": formatted_timestamp(event), "payload": event.data, "version": event.version,
        "leg": event.leg, "processHistory": history if index == 0 else [],
    } for index, event in enumerate(events)]
    state = timeline.state
    return {
        "events": items,
        "summary": {"totalEvents": len(events), "status": state.get("status") or "unknown",
                    "startTime": iso_time(events[0].recorded_at), "endTime": iso_time(events[-1].recorded_at),
                    # additions: the folded state at the last shown event
                    "leg": state.get("leg"), "terminal": state.get("terminal", False),
                    "version": state.get("version", 0)},
    }
