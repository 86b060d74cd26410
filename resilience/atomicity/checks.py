"""E16's checks: events without their outbox row, outbox rows without their event, read-model drift.
"""
from __future__ import annotations

from typing import Any

# Which event enqueues which outbox row (kind; key = f"{kind}-{id}" with the transfer's transactionId or the
# application id), as written by transfers/services/ and accounts/services.py. The row carries the event's
# (aggregate_id, event_version, event_type).
EVENT_OUTBOX_KINDS: dict[tuple[str, str], str] = {
    ("transfer", "WithdrawRequested"): "withdraw",
    ("transfer", "DepositRequested"): "deposit",
    ("transfer", "CompensationRequested"): "refund",
    ("transfer", "TransferCompleted"): "notify_transfer_completed",
    ("transfer", "TransferFailed"): "notify_transfer_failed",
    ("transfer", "TransferCompensated"): "notify_transfer_failed",
    ("account_opening", "AccountOpeningApplicationCreated"): "notify_receipt",
    ("account_opening", "AccountOpeningApplicationConfirmed"): "create_account",
    ("account_opening", "AccountOpeningApplicationRejected"): "notify_rejection",  # when ACCOUNTS_REJECTION_MAIL
    ("account_opening", "AccountOpeningApplicationCompleted"): "notify_completion",
}


# ====================================================================================================================
# the checks
# ====================================================================================================================

def _transaction_or_application_id(aggregate_type: str, aggregate_id: str) -> str:
    return aggregate_id.removeprefix("transfer-") if aggregate_type == "transfer" else aggregate_id


def consistency_check() -> dict[str, Any]:
    """Events without their outbox row, outbox rows without their event, read-model drift (see module doc)."""
    from django.conf import settings
    from django.db.models import Sum

    from balance.models import AccountBalance, TransactionEntry
    from outbox.eventstore.models import Event
    from outbox.invariants import invariants_check
    from outbox.models import OutboxMessage

    rows = {row.key: row for row in OutboxMessage.objects.all()}
    events_without_outbox: list[str] = []
    expected_keys = set()
    for event in Event.objects.order_by("position"):
        kind = EVENT_OUTBOX_KINDS.get((event.aggregate_type, event.type))
        if kind is None or (kind == "notify_rejection" and not settings.ACCOUNTS_REJECTION_MAIL):
            continue
        key = f"{kind}-{_transaction_or_application_id(event.aggregate_type, event.aggregate_id)}"
        expected_keys.add(key)
        row = rows.get(key)
        if row is None or row.event_version != event.version or row.event_type != event.type \
                or row.aggregate_id != event.aggregate_id:
            events_without_outbox.append(f"{event.aggregate_id} v{event.version} {event.type}: no {key} row")
    events = set(Event.objects.values_list("aggregate_id", "version", "type"))
    outbox_without_event = [f"{row.key} (v{row.event_version} {row.event_type})" for row in rows.values()
                            if (row.aggregate_id, row.event_version, row.event_type) not in events]
    unexpected_rows = sorted(set(rows) - expected_keys)

    drift: list[str] = []
    invariants = {result.code: result.violations for result in invariants_check()}
    for code, violations in invariants.items():
        if code.startswith("I8"):
            drift += [f"{code}: {violation}" for violation in violations]
    ledger = dict(TransactionEntry.objects.values("account_id").annotate(total=Sum("amount"))
                  .values_list("account_id", "total"))
    for account_id, balance in AccountBalance.objects.values_list("account_id", "ledger_balance"):
        if balance != (ledger.get(account_id) or 0):
            drift.append(f"account {account_id}: ledger {balance} != Σ postings {ledger.get(account_id) or 0}")
    drift += _rebuild_changes()
    return {
        "events_without_outbox": len(events_without_outbox), "outbox_without_event": len(outbox_without_event),
        "read_model_drift": len(drift), "unexpected_outbox_rows": len(unexpected_rows),
        "invariant_violations": {code: len(violations) for code, violations in invariants.items()},
        "examples": {"events_without_outbox": events_without_outbox[:10],
                     "outbox_without_event": outbox_without_event[:10], "read_model_drift": drift[:10],
                     "unexpected_outbox_rows": unexpected_rows[:10],
                     "invariants": {code: violations[:5] for code, violations in invariants.items() if violations}},
    }


def _projection_rows() -> dict[str, dict[str, dict[str, Any]]]:
    from accounts.models import Application
    from transfers.models import Transfer

    tables = {}
    for model, key in ((Transfer, "aggregate_id"), (Application, "application_id")):
        tables[model._meta.db_table] = {
            getattr(row, key): {field.attname: getattr(row, field.attname) for field in model._meta.concrete_fields
                                if not field.primary_key}
            for row in model.objects.all()}
    return tables


def _rebuild_changes() -> list[str]:
    """Replay every event through the registered projections; list the rows the rebuild changed."""
    from outbox.eventstore.services import projections_rebuild

    before = _projection_rows()
    projections_rebuild()
    after = _projection_rows()
    changes = []
    for table in before:
        for key in sorted(set(before[table]) | set(after[table])):
            if before[table].get(key) != after[table].get(key):
                changes.append(f"{table} {key}: rebuild changed the row")
    return changes
