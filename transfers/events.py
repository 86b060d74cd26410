"""Event types, statuses, legs and outbox keys of the transfer aggregate (flows.md R6, R7; api.md §7.3).

Stored strings are the original's (mixed case kept on purpose: the admin viewer shows them); `leg` tells
which leg a `processing` / `completed` / `failed` belongs to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AGGREGATE_TYPE = "transfer"

# --- event types: every step of a transfer is stored as one of these, so its history can be replayed (R6).
# The mixed spelling is the original's: the staff transfer viewer shows these names as they are (api.md §3.3). ---
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

# --- stored statuses: the original's exact strings, which clients compare against (api.md §7.3), plus the ones
# this implementation adds for the steps the original did not record (R6) ---
STATUS_RECEIVED = "RECEIVED"
STATUS_REJECTED = "REJECTED"
STATUS_WITHDRAW_REQUESTED = "WITHDRAW_REQUESTED"
STATUS_PROCESSING = "processing"
STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
STATUS_DEPOSIT_REQUESTED = "DEPOSIT_REQUESTED"
STATUS_COMPENSATION_REQUESTED = "COMPENSATION_REQUESTED"
STATUS_COMPENSATED = "COMPENSATED"

# --- legs: the core postings of a transfer. The third pays the payer back after a refused deposit; this code
# calls it the refund leg everywhere, while the stored names keep the original's "COMPENSATION" (leg, event
# types, statuses) and the outbox/core side its "refund" (row kind, core transaction type).
LEG_WITHDRAW = "WITHDRAW"
LEG_DEPOSIT = "DEPOSIT"
LEG_REFUND = "COMPENSATION"

# --- outbox message kinds; the key is `{kind}-{transactionId}` (R6, R20) ---
KIND_WITHDRAW = "withdraw"
KIND_DEPOSIT = "deposit"
KIND_REFUND = "refund"
KIND_MAIL_COMPLETED = "notify_transfer_completed"
KIND_MAIL_FAILED = "notify_transfer_failed"
LEG_KINDS = {LEG_WITHDRAW: KIND_WITHDRAW, LEG_DEPOSIT: KIND_DEPOSIT, LEG_REFUND: KIND_REFUND}
MONEY_KINDS = frozenset(LEG_KINDS.values())

# --- literals of the original payloads ---
TRANSACTION_TYPE = "TRANSFER"
TRANSFER_TYPE = "BANK_TRANSFER"
REASON_INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
CATEGORY_TRANSFER = "TRANSFER"
CATEGORY_TRANSFER_FAILED = "TRANSFER_FAILED"
CORE_TYPE_REFUND = "TRANSFER_REFUND"


def aggregate_id_for(transaction_id: str) -> str:
    """The transfer's event-stream id, `transfer-{transactionId}`: the 202 answer shows it as `aggregateId`, so it keeps
    the original's form (api.md §2.6)."""
    return f"transfer-{transaction_id}"


def outbox_key(kind: str, transaction_id: str) -> str:
    """The outbox row key, which is also the core-banking Idempotency-Key for money legs (R20)."""
    return f"{kind}-{transaction_id}"


def core_description(leg: str, transaction_id: str) -> str:
    """What the core posting says (api.md §2.5: how a customer finds the transfer id in the history)."""
    label = {LEG_WITHDRAW: "振込出金", LEG_DEPOSIT: "振込入金", LEG_REFUND: "振込返金"}[leg]
    return f"{label} - Transaction ID: {transaction_id}"


# --- event data (and the outbox payload built from the same values) -----------------------------------------
# Each dataclass below is one event type's data. Where the event asks core for a posting, the same object also
# builds the outbox row's payload, so the two can never disagree. The dictionaries are the original's field
# names: they are the stored event history, and the staff timeline shows them as they are.


@dataclass(frozen=True)
class TransferRequestedData:
    """`TransferRequested` (and, with the refusal fields, `TransferRejected`): what the customer asked for."""

    transaction_id: str
    source_account_id: str
    target_account_id: str
    amount: int
    description: str
    timestamp: str

    def event_data(self) -> dict[str, Any]:
        return {
            "transactionId": self.transaction_id, "sourceAccountId": self.source_account_id,
            "targetAccountId": self.target_account_id, "amount": self.amount, "description": self.description,
            "timestamp": self.timestamp, "transactionType": TRANSACTION_TYPE,
            "transferDetails": {"sourceAccountId": self.source_account_id, "targetAccountId": self.target_account_id,
                                "transferId": self.transaction_id, "transferType": TRANSFER_TYPE},
        }

    def rejected_event_data(self, *, available_balance: int, default_description: bool) -> dict[str, Any]:
        """`TransferRejected`: the request, the balance that was short and the reason."""
        data = self.event_data()
        if default_description:
            data["description"] = f"振込失敗: {self.source_account_id} → {self.target_account_id}"
        data["currentBalance"] = available_balance
        data["reason"] = REASON_INSUFFICIENT_BALANCE
        data["transferDetails"]["failureReason"] = REASON_INSUFFICIENT_BALANCE
        return data


@dataclass(frozen=True)
class LegRequestedData:
    """`WithdrawRequested`, `DepositRequested`, `CompensationRequested`: one posting asked of core.

    `account_id` is the account core posts to (the source for a withdrawal and a refund, the target for a
    deposit), `counterparty_account_id` the other one; `version` is the requesting event's own version.
    """

    leg: str
    transaction_id: str
    aggregate_id: str
    version: int
    account_id: str
    counterparty_account_id: str
    amount: int
    timestamp: str
    reason: str = ""

    @property
    def kind(self) -> str:
        return LEG_KINDS[self.leg]

    @property
    def event_type(self) -> str:
        return {LEG_WITHDRAW: WITHDRAW_REQUESTED, LEG_DEPOSIT: DEPOSIT_REQUESTED,
                LEG_REFUND: COMPENSATION_REQUESTED}[self.leg]

    @property
    def status(self) -> str:
        return {LEG_WITHDRAW: STATUS_WITHDRAW_REQUESTED, LEG_DEPOSIT: STATUS_DEPOSIT_REQUESTED,
                LEG_REFUND: STATUS_COMPENSATION_REQUESTED}[self.leg]

    @property
    def outbox_key(self) -> str:
        """The outbox row's key, which is also core's Idempotency-Key for this posting."""
        return outbox_key(self.kind, self.transaction_id)

    def event_data(self) -> dict[str, Any]:
        key = self.outbox_key
        if self.leg == LEG_WITHDRAW:
            return {
                "transactionId": self.transaction_id, "sourceAccountId": self.account_id,
                "targetAccountId": self.counterparty_account_id, "amount": self.amount,
                "timestamp": self.timestamp, "aggregateId": self.aggregate_id, "version": self.version,
                "transactionType": "TRANSFER_WITHDRAWAL",
                "transferDetails": {"transferId": self.transaction_id, "transferType": TRANSFER_TYPE,
                                    "description": f"振込出金: {self.counterparty_account_id}宛"},
                "outboxRecordId": key, "idempotencyKey": key,
            }
        if self.leg == LEG_DEPOSIT:
            return {
                "transactionId": self.transaction_id, "accountId": self.account_id,
                "sourceAccountId": self.counterparty_account_id, "amount": self.amount,
                "timestamp": self.timestamp, "aggregateId": self.aggregate_id, "version": self.version,
                "transactionType": "TRANSFER_DEPOSIT",
                "transferDetails": {"sourceAccountId": self.counterparty_account_id,
                                    "transferId": self.transaction_id, "transferType": TRANSFER_TYPE,
                                    "description": f"振込入金: {self.counterparty_account_id}から"},
                "outboxRecordId": key, "idempotencyKey": key,
            }
        return {
            "transactionId": self.transaction_id, "accountId": self.account_id,
            "targetAccountId": self.counterparty_account_id, "amount": self.amount, "reason": self.reason,
            "aggregateId": self.aggregate_id, "version": self.version, "transactionType": CORE_TYPE_REFUND,
            "outboxRecordId": key, "idempotencyKey": key,
        }

    def outbox_payload(self) -> dict[str, Any]:
        """What the relay sends to core (and nothing else): the posting's accounts, amount and description."""
        counterparty = "sourceAccountId" if self.leg == LEG_DEPOSIT else "targetAccountId"
        payload = {"accountId": self.account_id, counterparty: self.counterparty_account_id, "amount": self.amount,
                   "transactionId": self.transaction_id, "aggregateId": self.aggregate_id, "version": self.version}
        if self.leg == LEG_REFUND:
            payload["reason"] = self.reason
        payload["description"] = core_description(self.leg, self.transaction_id)
        return payload


@dataclass(frozen=True)
class TransferEndedData:
    """`TransferCompleted`, `TransferFailed`, `TransferCompensated`: how the transfer ended, and when."""

    event_type: str
    transaction_id: str
    aggregate_id: str
    version: int
    source_account_id: str
    target_account_id: str
    amount: int
    at: str
    reason: str = ""

    def event_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"transactionId": self.transaction_id, "sourceAccountId": self.source_account_id,
                                "targetAccountId": self.target_account_id, "amount": self.amount}
        if self.event_type == TRANSFER_FAILED:
            data["reason"] = self.reason
        data[{TRANSFER_COMPLETED: "completedAt", TRANSFER_FAILED: "failedAt",
              TRANSFER_COMPENSATED: "compensatedAt"}[self.event_type]] = self.at
        data.update(aggregateId=self.aggregate_id, version=self.version)
        return data
