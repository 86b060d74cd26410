"""Every state change of a transfer, one transaction each, read top to bottom:

- request.py   accepting a transfer (`transfer_request`): validation, hold, first events, withdrawal row;
- legs.py      the saga's steps (`transfer_leg_start`, `transfer_withdrawal_record`, `transfer_deposit_record`,
               `transfer_refund_record`), called by the relay through transfers/outbox_handlers.py;
- operator.py  staff actions on a dead-lettered leg (`transfer_abort`, `transfer_compensate`).

What core's answers mean is decided in transfers/core_answers.py; the events' data in transfers/events.py.
Network calls to core happen only outside transactions (the relay's delivery, or before the operator services
open theirs).
"""
from transfers.core_answers import LegResult
from transfers.errors import (
                              CoreUnavailableError,
                              InsufficientFundsError,
                              LegStillInFlightError,
                              TransferForbiddenError,
                              TransferInvalidError,
                              TransferNotFoundError,
)
from transfers.services.legs import (
                              transfer_deposit_record,
                              transfer_leg_start,
                              transfer_refund_record,
                              transfer_withdrawal_record,
)
from transfers.services.operator import transfer_abort, transfer_compensate
from transfers.services.request import TransferRequestAnswer, transfer_request, transfer_request_validate

__all__ = [
    "transfer_request", "transfer_request_validate", "TransferRequestAnswer", "transfer_leg_start",
    "transfer_withdrawal_record", "transfer_deposit_record", "transfer_refund_record", "transfer_abort",
    "transfer_compensate", "LegResult", "InsufficientFundsError", "TransferInvalidError", "TransferForbiddenError",
    "TransferNotFoundError", "LegStillInFlightError", "CoreUnavailableError",
]
