"""Event types, record statuses and snapshot helpers of the `account_opening` aggregate (flows.md §1.3, R7).

Every event's `data` is the FULL application snapshot (§1.2), carried forward from the previous event and
never reset (the original dropped `createdAt`/`confirmedAt` on completion; we keep them). The folded state of
an application is therefore the `data` of its newest event. The original's `processHistory` entry of each
event is kept in `metadata.processHistoryEntry`. The temporary password never appears here (R12, R33).
"""
from __future__ import annotations

from typing import Any

from outbox.eventstore.models import Event

AGGREGATE_TYPE = "account_opening"

APPLICATION_CREATED = "AccountOpeningApplicationCreated"
APPLICATION_CONFIRMED = "AccountOpeningApplicationConfirmed"
APPLICATION_REJECTED = "AccountOpeningApplicationRejected"
APPLICATION_COMPLETED = "AccountOpeningApplicationCompleted"
RECEIPT_NOTIFIED = "AccountOpeningNotificationReceiptNotified"
COMPLETION_NOTIFIED = "AccountOpeningNotificationCompletionNotified"
# (new) provisioning ended in a definitive refusal or ran out of attempts: visible failed state (R34).
PROVISIONING_FAILED = "AccountOpeningProvisioningFailed"

EVENT_TYPES = frozenset({APPLICATION_CREATED, APPLICATION_CONFIRMED, APPLICATION_REJECTED, APPLICATION_COMPLETED,
                         RECEIPT_NOTIFIED, COMPLETION_NOTIFIED, PROVISIONING_FAILED})

# Record-level `status` (lower case, differs from data.status) and the processHistory (status, type) pair.
RECORD_STATUS = {
    APPLICATION_CREATED: "pending",
    RECEIPT_NOTIFIED: "completed",
    APPLICATION_CONFIRMED: "pending",
    APPLICATION_REJECTED: "rejected",
    APPLICATION_COMPLETED: "completed",
    COMPLETION_NOTIFIED: "completed",
    PROVISIONING_FAILED: "failed",
}
PROCESS_HISTORY = {
    APPLICATION_CREATED: ("created", "application_created"),
    RECEIPT_NOTIFIED: ("notification_sent", "receiptNotified"),
    APPLICATION_CONFIRMED: ("confirmed", "application_confirmed"),
    APPLICATION_REJECTED: ("rejected", "application_rejected"),
    APPLICATION_COMPLETED: ("account_created", "core_banking_integration"),
    COMPLETION_NOTIFIED: ("notification_sent", "completionNotified"),
    PROVISIONING_FAILED: ("failed", "core_banking_integration"),
}

# Outbox kinds: each side effect of an application waits as an outbox row of one of these kinds, written in the
# same transaction as the event that causes it, so a crash never loses or duplicates it (R3, R6).
KIND_NOTIFY_RECEIPT = "notify_receipt"
KIND_CREATE_ACCOUNT = "create_account"
KIND_NOTIFY_COMPLETION = "notify_completion"
KIND_NOTIFY_REJECTION = "notify_rejection"


def outbox_key(kind: str, application_id: str) -> str:
    """`{kind}-{applicationId}` (unique: at most one row per unit of work, R31, R35)."""
    return f"{kind}-{application_id}"


def process_history_entry(event_type: str, **extra: Any) -> dict[str, Any]:
    """The §1.3 processHistory entry of an event type, plus extra keys (accountId, comment, …)."""
    status, kind = PROCESS_HISTORY[event_type]
    return {"status": status, "type": kind, **extra}


def application_initial_state() -> dict[str, Any]:
    return {}


def application_fold(state: dict[str, Any], event: Event) -> dict[str, Any]:
    """The state after `event`: its full snapshot (every event carries the whole application)."""
    return dict(event.data)
