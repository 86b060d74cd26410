"""What core banking's answer means for one money leg of a transfer: the one place that decides.

A leg (withdrawal, deposit, refund) posts to core under its outbox key as Idempotency-Key. Every answer about
that key, whichever call produced it, is read here:

- the posting call itself (`answer_of_posting`): 2xx → the leg applied; a definite refusal (4xx) → the leg
  refused; no usable answer (timeout, 5xx, connection lost) → unknown: the caller must look the key up before
  anything else, because core may have applied it;
- the look-up of the key (`answer_of_lookup`): applied → core's stored answer; voided → refused; never seen (404)
  or unreachable → still unknown, so the caller retries the same key later;
- the void of the key (`answer_of_void`), sent before a refused deposit is compensated and by the operator's
  abort/compensate: voided → the leg can never apply, so it is refused with the reason given; already applied →
  core's stored answer (the leg went through after all); unconfirmed → unknown.

The answer is a `LegResult` that travels unchanged from the relay's delivery to the service that records it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from outbox.core_banking.client import CoreResult, Outcome


@dataclass(frozen=True)
class LegResult:
    """A leg's definitive result: the posting (success) or the refusal (`error` {code, message, httpStatus})."""

    success: bool
    core_transaction_id: str = ""
    new_balance: int | None = None
    timestamp: str = ""
    error: dict[str, Any] | None = None
    http_status: int | None = None

    @property
    def error_code(self) -> str:
        return str((self.error or {}).get("code", ""))

    @property
    def error_message(self) -> str:
        return str((self.error or {}).get("message", ""))

    def processed_data(self) -> dict[str, Any]:
        """The data of the leg's `*_PROCESSED` event: `success` and either `result` or `error`."""
        if self.success:
            result: dict[str, Any] = {"coreTransactionId": self.core_transaction_id, "timestamp": self.timestamp}
            if self.new_balance is not None:
                result["newBalance"] = self.new_balance
            return {"success": True, "result": result}
        return {"success": False, "error": dict(self.error or {})}


def refusal_error(*, http_status: int | None, body: dict[str, Any] | None) -> dict[str, Any]:
    """`error` {code, message, httpStatus} of a refusal, classified from core's message (no URLs or traces)."""
    message = str((body or {}).get("error") or (body or {}).get("message") or f"HTTP {http_status}")
    lowered = message.lower()
    if "insufficient" in lowered:
        code = "INSUFFICIENT_BALANCE"
    elif "void" in lowered:
        code = "IDEMPOTENCY_KEY_VOIDED"
    elif "not active" in lowered or "frozen" in lowered or "inactive" in lowered:
        code = "ACCOUNT_NOT_ACTIVE"
    elif http_status == 404:
        code = "ACCOUNT_NOT_FOUND"
    elif http_status == 422:
        code = "IDEMPOTENCY_KEY_REUSED"
    else:
        code = "CORE_REFUSED"
    return {"code": code, "message": message[:300], "httpStatus": http_status}


def result_of_core_answer(*, status_code: int, body: dict[str, Any]) -> LegResult:
    """A leg result from one core answer (a live one, or the one core stored under the key)."""
    if 200 <= status_code < 300:
        return LegResult(success=True, core_transaction_id=str(body.get("transactionId") or ""),
                         new_balance=body.get("newBalance"), timestamp=str(body.get("timestamp") or ""),
                         http_status=status_code)
    return LegResult(success=False, error=refusal_error(http_status=status_code, body=body), http_status=status_code)


def answer_of_posting(answer: CoreResult) -> LegResult | None:
    """The posting call's answer; None when it is ambiguous (look the key up before anything else)."""
    if answer.outcome is Outcome.AMBIGUOUS:
        return None
    return result_of_core_answer(status_code=answer.http_status or 0, body=answer.body or {})


def answer_of_lookup(lookup: CoreResult) -> LegResult | None:
    """The key's look-up: applied → the stored answer; voided → refused; None when core never applied it (404)
    or did not answer: retry the same key later."""
    if lookup.outcome is not Outcome.SUCCESS:
        return None
    record = lookup.body or {}
    if record.get("state") == "applied" and record.get("statusCode"):
        return result_of_core_answer(status_code=int(record["statusCode"]), body=record.get("response") or {})
    if record.get("state") == "voided":
        return LegResult(success=False, http_status=409, error={
            "code": "IDEMPOTENCY_KEY_VOIDED", "message": "the leg's key was voided", "httpStatus": 409})
    return None


def answer_of_void(void: CoreResult, *, refusal: dict[str, Any]) -> LegResult | None:
    """The key's void: voided → refused with `refusal` (the leg can never apply now); already applied → the
    stored answer; None when core did not confirm either (try again)."""
    if void.outcome is Outcome.SUCCESS:
        return LegResult(success=False, error=refusal, http_status=refusal.get("httpStatus"))
    body = void.body or {}
    if void.outcome is Outcome.DEFINITE and body.get("state") == "applied":
        return result_of_core_answer(status_code=int(body.get("statusCode") or 0), body=body.get("response") or {})
    return None
