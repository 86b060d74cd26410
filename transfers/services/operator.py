"""What staff do with a transfer whose leg dead-lettered: abort the withdrawal, or compensate the deposit.

Each first voids the leg's key at core (network, outside any transaction), so that the leg can never apply later,
then records what core said in one transaction through the same record service the relay uses: voided → the
leg is refused with the operator's reason; already applied → the leg's real result, and the saga goes on.
Every call is audited (TransferOperatorAction); a second call finds the leg resolved and is a no-op.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from outbox.core_banking import client as core_client
from outbox.models import OutboxMessage, OutboxStatus
from outbox.services import outbox_resolve
from transfers import events as ev
from transfers import saga
from transfers.core_answers import answer_of_void
from transfers.errors import CoreUnavailableError, LegStillInFlightError, TransferNotFoundError
from transfers.models import Transfer, TransferOperatorAction
from transfers.services.legs import LEG_RECORDERS, transfer_lock

logger = logging.getLogger("bank.transfers")


def _operator_action(*, transaction_id: str, action: str, leg: str, actor: str,
                     refusal: dict[str, Any]) -> tuple[Transfer, str]:
    transfer = Transfer.objects.filter(transaction_id=transaction_id).first()
    if transfer is None:
        raise TransferNotFoundError("Transfer not found", extra={"transactionId": transaction_id})
    phase_before = transfer.phase
    if phase_before not in saga.LEG_OPEN_PHASES[leg]:
        # Already past this leg (a second call, or the leg finished meanwhile): nothing to do.
        TransferOperatorAction.objects.create(transaction_id=transaction_id, action=action, actor=actor[:150],
                                              outcome="noop", phase_before=phase_before, phase_after=phase_before,
                                              note="leg already resolved")
        return transfer, "noop"
    message = OutboxMessage.objects.filter(key=ev.outbox_key(ev.LEG_KINDS[leg], transaction_id)).first()
    if message is None or message.status != OutboxStatus.FAILED:
        raise LegStillInFlightError(f"the {leg.lower()} leg is not dead-lettered; wait or replay it",
                                    extra={"outboxStatus": message.status if message else None})
    void = core_client.idempotency_void(key=message.key)  # outside any transaction
    result = answer_of_void(void, refusal=refusal)
    if result is None:
        raise CoreUnavailableError("core banking did not confirm the void; try again",
                                   extra={"coreError": void.error, "coreStatus": void.http_status})
    with transaction.atomic(durable=True):
        locked = transfer_lock(transaction_id=transaction_id)
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.phase not in saga.LEG_OPEN_PHASES[leg] or message.status != OutboxStatus.FAILED:
            raise LegStillInFlightError("the transfer changed meanwhile (replayed?); look again",
                                        extra={"phase": locked.phase, "outboxStatus": message.status})
        # A leg never claimed (phase *_REQUESTED) may end directly: the saga table allows it.
        LEG_RECORDERS[leg](transaction_id=transaction_id, result=result, actor=actor)
        outcome = "applied" if result.success else "voided"
        outbox_resolve(message_id=message.pk, actor=actor, note=f"{action} by operator: {outcome}")
        locked.refresh_from_db()
        TransferOperatorAction.objects.create(transaction_id=transaction_id, action=action, actor=actor[:150],
                                              outcome=outcome, phase_before=phase_before, phase_after=locked.phase)
    logger.warning("transfer %s %s by %s: %s (phase %s → %s)", transaction_id, action, actor, outcome, phase_before,
                   locked.phase)
    return locked, outcome


def transfer_abort(*, transaction_id: str, actor: str) -> tuple[Transfer, str]:
    """The withdrawal row dead-lettered. Void `withdraw-{id}`; voided → WITHDRAW_PROCESSED failed +
    TransferFailed (hold released, failure mail); already applied → the saga continues with the deposit.
    Audited; a second call is a no-op. Raises LegStillInFlightError (409), CoreUnavailableError (503)."""
    return _operator_action(transaction_id=transaction_id, action="abort", leg=ev.LEG_WITHDRAW, actor=actor,
                            refusal={"code": "ABORTED", "message": "aborted by operator; withdrawal voided",
                                     "httpStatus": None})


def transfer_compensate(*, transaction_id: str, actor: str) -> tuple[Transfer, str]:
    """The deposit row dead-lettered. Void `deposit-{id}`; voided → DEPOSIT_PROCESSED failed +
    CompensationRequested + `refund-{id}`; already applied → completed. Audited; a second call is a no-op."""
    return _operator_action(transaction_id=transaction_id, action="compensate", leg=ev.LEG_DEPOSIT, actor=actor,
                            refusal={"code": "COMPENSATED_BY_OPERATOR", "message": "deposit voided by operator",
                                     "httpStatus": None})
