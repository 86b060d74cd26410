"""Event types, statuses, legs and outbox keys of the transfer aggregate (flows.md R6, R7; api.md §7.3).

Stored strings are the original's (mixed case kept on purpose: the admin viewer shows them); `leg` tells
which leg a `processing` / `completed` / `failed` belongs to.
"""
from __future__ import annotations

AGGREGATE_TYPE = "transfer"

# --- event types (R6) ---
TRANSFER_REQUESTED = "TransferRequested"
TRANSFER_REJECTED = "TransferRejected"
WITHDRAW_REQUESTED = "WithdrawRequested"
PROCESSING_STARTED = "PROCESSING_STARTED"
WITHDRAW_PROCESSED = "WITHDRAW_PROCESSED"
DEPOSIT_REQUESTED = "DepositRequested"
DEPOSIT_PROCESSED = "DEPOSIT_PROCESSED"
TRANSFER_COMPLETED = "TransferCompleted"
TRANSFER_FAILED = "TransferFailed"
COMPENSATION_REQUESTED = "CompensationRequested"
COMPENSATION_PROCESSED = "COMPENSATION_PROCESSED"
TRANSFER_COMPENSATED = "TransferCompensated"

EVENT_TYPES = frozenset({
    TRANSFER_REQUESTED, TRANSFER_REJECTED, WITHDRAW_REQUESTED, PROCESSING_STARTED, WITHDRAW_PROCESSED,
    DEPOSIT_REQUESTED, DEPOSIT_PROCESSED, TRANSFER_COMPLETED, TRANSFER_FAILED, COMPENSATION_REQUESTED,
    COMPENSATION_PROCESSED, TRANSFER_COMPENSATED,
})

# --- stored statuses (api.md §7.3 + the new ones of R6) ---
STATUS_RECEIVED = "RECEIVED"
STATUS_REJECTED = "REJECTED"
STATUS_WITHDRAW_REQUESTED = "WITHDRAW_REQUESTED"
STATUS_PROCESSING = "processing"
STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
STATUS_DEPOSIT_REQUESTED = "DEPOSIT_REQUESTED"
STATUS_COMPENSATION_REQUESTED = "COMPENSATION_REQUESTED"
STATUS_COMPENSATED = "COMPENSATED"

# --- legs (R2) ---
LEG_WITHDRAW = "WITHDRAW"
LEG_DEPOSIT = "DEPOSIT"
LEG_COMPENSATION = "COMPENSATION"

# --- outbox message kinds; the key is `{kind}-{transactionId}` (R6, R20) ---
KIND_WITHDRAW = "withdraw"
KIND_DEPOSIT = "deposit"
KIND_REFUND = "refund"
KIND_MAIL_COMPLETED = "notify_transfer_completed"
KIND_MAIL_FAILED = "notify_transfer_failed"
LEG_KINDS = {LEG_WITHDRAW: KIND_WITHDRAW, LEG_DEPOSIT: KIND_DEPOSIT, LEG_COMPENSATION: KIND_REFUND}
KIND_LEGS = {kind: leg for leg, kind in LEG_KINDS.items()}
MONEY_KINDS = frozenset(LEG_KINDS.values())

# --- literals of the original payloads ---
TRANSACTION_TYPE = "TRANSFER"
TRANSFER_TYPE = "BANK_TRANSFER"
REASON_INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
CATEGORY_TRANSFER = "TRANSFER"
CATEGORY_TRANSFER_FAILED = "TRANSFER_FAILED"
CORE_TYPE_REFUND = "TRANSFER_REFUND"


def aggregate_id_for(transaction_id: str) -> str:
    """`transfer-{transactionId}` (api.md §2.6)."""
    return f"transfer-{transaction_id}"


def outbox_key(kind: str, transaction_id: str) -> str:
    """The outbox row key, which is also the core-banking Idempotency-Key for money legs (R20)."""
    return f"{kind}-{transaction_id}"


def core_description(leg: str, transaction_id: str) -> str:
    """What the core posting says (api.md §2.5: how a customer finds the transfer id in the history)."""
    label = {LEG_WITHDRAW: "振込出金", LEG_DEPOSIT: "振込入金", LEG_COMPENSATION: "振込返金"}[leg]
    return f"{label} - Transaction ID: {transaction_id}"
