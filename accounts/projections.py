"""The `accounts.application_row` projection: event → `Application` row, in the appending transaction (R9)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_datetime

from accounts.models import Application
from outbox.eventstore.models import Event

PROJECTION_NAME = "accounts.application_row"


def _time(snapshot: dict[str, Any], key: str) -> dt.datetime | None:
    value = snapshot.get(key)
    return parse_datetime(value) if isinstance(value, str) and value else None


def application_project(event: Event) -> None:
    """Upsert the application row from the event's full snapshot (idempotent: the row mirrors `data`)."""
    snapshot = event.data
    info = snapshot.get("customerInfo") or {}
    fields = {
        "transaction_id": snapshot["transactionId"],
        "status": snapshot["status"],
        "version": event.version,
        "full_name": info.get("fullName", ""),
        "kana": info.get("kana", ""),
        "email": info.get("email", ""),
        "phone_number": info.get("phoneNumber", ""),
        "id_type": info.get("idType", ""),
        "id_number": info.get("idNumber", ""),
        "account_type": snapshot.get("accountType", "SAVINGS"),
        "snapshot": snapshot,
        "created_at": _time(snapshot, "createdAt") or event.recorded_at,
        "updated_at": _time(snapshot, "updatedAt") or event.recorded_at,
        "confirmed_at": _time(snapshot, "confirmedAt"),
        "rejected_at": _time(snapshot, "rejectedAt"),
        "completed_at": _time(snapshot, "completedAt"),
        "receipt_notified_at": _time(snapshot, "receiptNotifiedAt"),
        "completion_notified_at": _time(snapshot, "completionNotifiedAt"),
        "reviewed_by": snapshot.get("reviewedBy", ""),
        "review_comment": snapshot.get("reviewComment", ""),
        "customer_id": snapshot.get("customerId", ""),
        "account_id": snapshot.get("accountId", ""),
        "account_number": snapshot.get("accountNumber", ""),
        "branch_code": snapshot.get("branchCode", ""),
        "login_id": snapshot.get("loginId", ""),
        "provisioning_error": snapshot.get("provisioningError", ""),
        "provisioning_failed_at": _time(snapshot, "provisioningFailedAt"),
    }
    Application.objects.update_or_create(application_id=event.aggregate_id, defaults=fields)


def application_projection_reset() -> None:
    """Empty the projection before a rebuild."""
    Application.objects.all().delete()

