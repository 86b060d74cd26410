"""The transfer saga as a table: phase → (event type, outcome) → next phase (flows.md §5.6, R24).

The phase is folded from the events (transfers/projections.py) and stored on the projection row; every
service checks its batch of events against this table before appending, so an illegal transition can
never be written. Stored `status`/`leg` strings stay the original's; the phase only removes ambiguity
(e.g. `failed` after WITHDRAW_PROCESSED vs after TransferFailed).
"""
from __future__ import annotations

from collections.abc import Iterable

from config.errors import ConflictError
from transfers import events as ev

NEW = "NEW"
REJECTED = "REJECTED"
RECEIVED = "RECEIVED"
WITHDRAW_REQUESTED = "WITHDRAW_REQUESTED"
WITHDRAW_PROCESSING = "WITHDRAW_PROCESSING"
WITHDRAWN = "WITHDRAWN"
WITHDRAW_REFUSED = "WITHDRAW_REFUSED"
FAILED = "FAILED"
DEPOSIT_REQUESTED = "DEPOSIT_REQUESTED"
DEPOSIT_PROCESSING = "DEPOSIT_PROCESSING"
DEPOSITED = "DEPOSITED"
DEPOSIT_REFUSED = "DEPOSIT_REFUSED"
COMPLETED = "COMPLETED"
COMPENSATION_REQUESTED = "COMPENSATION_REQUESTED"
COMPENSATION_PROCESSING = "COMPENSATION_PROCESSING"
REFUNDED = "REFUNDED"
COMPENSATED = "COMPENSATED"

OK = ev.STATUS_COMPLETED
KO = ev.STATUS_FAILED

# (event type, outcome) where outcome is the status for *_PROCESSED events and None otherwise.
TRANSITIONS: dict[str, dict[tuple[str, str | None], str]] = {
    NEW: {(ev.TRANSFER_REQUESTED, None): RECEIVED, (ev.TRANSFER_REJECTED, None): REJECTED},
    RECEIVED: {(ev.WITHDRAW_REQUESTED, None): WITHDRAW_REQUESTED},
    WITHDRAW_REQUESTED: {(ev.PROCESSING_STARTED, None): WITHDRAW_PROCESSING,
                         # operator abort of a leg that never got claimed (R26)
                         (ev.WITHDRAW_PROCESSED, OK): WITHDRAWN, (ev.WITHDRAW_PROCESSED, KO): WITHDRAW_REFUSED},
    WITHDRAW_PROCESSING: {(ev.WITHDRAW_PROCESSED, OK): WITHDRAWN, (ev.WITHDRAW_PROCESSED, KO): WITHDRAW_REFUSED},
    WITHDRAWN: {(ev.DEPOSIT_REQUESTED, None): DEPOSIT_REQUESTED},
    WITHDRAW_REFUSED: {(ev.TRANSFER_FAILED, None): FAILED},
    DEPOSIT_REQUESTED: {(ev.PROCESSING_STARTED, None): DEPOSIT_PROCESSING,
                        (ev.DEPOSIT_PROCESSED, OK): DEPOSITED, (ev.DEPOSIT_PROCESSED, KO): DEPOSIT_REFUSED},
    DEPOSIT_PROCESSING: {(ev.DEPOSIT_PROCESSED, OK): DEPOSITED, (ev.DEPOSIT_PROCESSED, KO): DEPOSIT_REFUSED},
    DEPOSITED: {(ev.TRANSFER_COMPLETED, None): COMPLETED},
    DEPOSIT_REFUSED: {(ev.COMPENSATION_REQUESTED, None): COMPENSATION_REQUESTED},
    COMPENSATION_REQUESTED: {(ev.PROCESSING_STARTED, None): COMPENSATION_PROCESSING,
                             (ev.COMPENSATION_PROCESSED, OK): REFUNDED},
    COMPENSATION_PROCESSING: {(ev.COMPENSATION_PROCESSED, OK): REFUNDED},
    REFUNDED: {(ev.TRANSFER_COMPENSATED, None): COMPENSATED},
    REJECTED: {}, FAILED: {}, COMPLETED: {}, COMPENSATED: {},
}

TERMINAL_PHASES = frozenset({REJECTED, FAILED, COMPLETED, COMPENSATED})
# The leg whose outbox row drives each non-terminal phase (R24: exactly one open row).
DRIVING_LEG = {
    WITHDRAW_REQUESTED: ev.LEG_WITHDRAW, WITHDRAW_PROCESSING: ev.LEG_WITHDRAW,
    DEPOSIT_REQUESTED: ev.LEG_DEPOSIT, DEPOSIT_PROCESSING: ev.LEG_DEPOSIT,
    COMPENSATION_REQUESTED: ev.LEG_REFUND, COMPENSATION_PROCESSING: ev.LEG_REFUND,
}
# Phases in which the leg's core call may be in flight (the leg's result is still to be recorded).
LEG_OPEN_PHASES = {
    ev.LEG_WITHDRAW: frozenset({WITHDRAW_REQUESTED, WITHDRAW_PROCESSING}),
    ev.LEG_DEPOSIT: frozenset({DEPOSIT_REQUESTED, DEPOSIT_PROCESSING}),
    ev.LEG_REFUND: frozenset({COMPENSATION_REQUESTED, COMPENSATION_PROCESSING}),
}
# Phases in which the source account's money is held in the read model (TransferRequested → withdrawal).
HOLD_PHASES = frozenset({RECEIVED, WITHDRAW_REQUESTED, WITHDRAW_PROCESSING})
# Phases after the withdrawal applied but before the money arrived anywhere: "in suspense" (I1, §5.10).
SUSPENSE_PHASES = frozenset({WITHDRAWN, DEPOSIT_REQUESTED, DEPOSIT_PROCESSING, DEPOSIT_REFUSED,
                             COMPENSATION_REQUESTED, COMPENSATION_PROCESSING})


class IllegalTransitionError(ConflictError):
    """The event does not follow from the transfer's current phase (never written)."""

    code = "ILLEGAL_TRANSITION"


def outcome_of(event_type: str, status: str) -> str | None:
    """The outcome part of a transition key: the status of *_PROCESSED events, None otherwise."""
    return status if event_type.endswith("_PROCESSED") else None


def next_phase(phase: str, event_type: str, status: str) -> str:
    """The phase after one event, or IllegalTransitionError."""
    try:
        return TRANSITIONS[phase][(event_type, outcome_of(event_type, status))]
    except KeyError:
        raise IllegalTransitionError(f"{event_type} ({status}) is not allowed in phase {phase}",
                                     extra={"phase": phase, "eventType": event_type}) from None


def phase_after(phase: str, steps: Iterable[tuple[str, str]]) -> str:
    """The phase after a batch of (event type, status) steps; raises on the first illegal one."""
    for event_type, status in steps:
        phase = next_phase(phase, event_type, status)
    return phase


def is_terminal(phase: str) -> bool:
    return phase in TERMINAL_PHASES
