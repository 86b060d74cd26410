"""Every state change of an account-opening application (flows.md R6, R31–R34).

Each command is one `transaction.atomic` that locks the application row, checks its status, appends the
event at the expected version (unique (aggregate_id, version) catches a lost race → 409), lets the
projection update the row, and inserts the follow-up outbox row. No network I/O inside.

Commands called by people (submit, approve, reject, retry) open a durable transaction; the relay-result
services (`application_receipt_notified`, `application_complete`, `application_completion_notified`,
`application_provisioning_fail`) run inside the relay's settle transaction, so they open a savepoint.
The temporary password is never handled here: the login is created with an unusable password and the
completion mail handler issues the password (accounts/outbox_handlers.py).
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import events as ev
from accounts.models import Application, ApplicationStatus
from accounts.validation import ApplicationInput
from auth_app.services import login_id_for_customer, user_register
from balance.services import account_balance_open
from config.api import iso_time
from config.errors import ApplicationError, ConflictError, NotFoundError
from config.observability import tracing
from config.observability.logs import log_context_bind
from outbox.eventstore.services import NewEvent, event_append
from outbox.models import OutboxMessage
from outbox.request_idempotency import request_idempotency_claim, request_idempotency_store
from outbox.services import outbox_enqueue, outbox_replay

logger = logging.getLogger("bank.accounts")

IDEMPOTENCY_SCOPE = "account_application"
IDEMPOTENCY_OWNER = "public"
SUBMIT_ACTOR = "applicant:public"
ID_HEX_BYTES = 8  # 16 lowercase hex characters after the APP-/TRX- prefix (api.md §8: long random ids)


class ApplicationNotFoundError(NotFoundError):
    code = "APPLICATION_NOT_FOUND"


class ApplicationStateError(ApplicationError):
    """The application is not in the status the command needs (`extra.currentStatus`): the original's 400."""

    code = "INVALID_APPLICATION_STATUS"
    http_status = 400


class ProvisioningNotRetryableError(ConflictError):
    code = "PROVISIONING_NOT_RETRYABLE"


@dataclass(frozen=True)
class SubmitResult:
    """The answer of a submission (the stored first answer when the Idempotency-Key was seen before)."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def _now_iso() -> str:
    return iso_time(timezone.now())


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(ID_HEX_BYTES)}"


def _lock_by_application_id(application_id: str) -> Application | None:
    return Application.objects.select_for_update().filter(application_id=application_id).first()


def _append(*, application: Application | None, application_id: str, transaction_id: str, event_type: str,
            snapshot: dict[str, Any], actor: str, history: dict[str, Any] | None = None,
            metadata: dict[str, Any] | None = None) -> None:
    """Append one application event carrying the full snapshot (projection runs in the same transaction)."""
    entry = ev.process_history_entry(event_type, **(history or {}))
    event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=application_id,
                 expected_version=application.version if application is not None else 0,
                 events=[NewEvent(type=event_type, data=snapshot, status=ev.RECORD_STATUS[event_type],
                                  metadata={"processHistoryEntry": entry, **(metadata or {})})],
                 actor=actor, correlation_id=transaction_id)


def application_submit(*, application_input: ApplicationInput, idempotency_key: str | None = None,
                       request_fingerprint: str = "", actor: str = SUBMIT_ACTOR,
                       terms_version: str | None = None) -> SubmitResult:
    """Store a new PENDING application: `AccountOpeningApplicationCreated` + outbox `notify_receipt-{id}`.

    `terms_version`: the terms of service the applicant accepted on this server's form; the event records it
    with the time (`termsConsent`). None (the API, whose original clients tick their own box and send no
    field) records `termsConsent: null`: the server holds no proof of consent for that application.

    With an Idempotency-Key, a repeat (same body) returns the first answer and creates nothing; the same key
    with another body raises IdempotencyKeyReusedError (422).
    """
    with transaction.atomic(durable=True):
        if idempotency_key:
            stored = request_idempotency_claim(scope=IDEMPOTENCY_SCOPE, owner=IDEMPOTENCY_OWNER, key=idempotency_key,
                                               fingerprint=request_fingerprint)
            if stored is not None:
                return SubmitResult(status_code=stored.status_code, body=stored.body, replayed=True)
        application_id, transaction_id, now = _new_id("APP"), _new_id("TRX"), _now_iso()
        log_context_bind(application_id=application_id)
        tracing.span_attributes_set(application_id=application_id)
        snapshot = {
            "id": application_id,
            "transactionId": transaction_id,
            "customerInfo": application_input.customer_info(),
            "accountType": application_input.account_type,
            "language": application_input.language,
            "status": ApplicationStatus.PENDING,
            "createdAt": now,
            "updatedAt": now,
            "receiptNotified": False,
            "completionNotified": False,
            "termsConsent": {"accepted": True, "termsVersion": terms_version, "acceptedAt": now}
            if terms_version else None,
        }
        _append(application=None, application_id=application_id, transaction_id=transaction_id,
                event_type=ev.APPLICATION_CREATED, snapshot=snapshot, actor=actor)
        outbox_enqueue(key=ev.outbox_key(ev.KIND_NOTIFY_RECEIPT, application_id), kind=ev.KIND_NOTIFY_RECEIPT,
                       aggregate_id=application_id, event_version=1, event_type=ev.APPLICATION_CREATED,
                       payload={"applicationId": application_id, "transactionId": transaction_id,
                                "action": ev.KIND_NOTIFY_RECEIPT})
        body = {"id": application_id, "transactionId": transaction_id, "status": ApplicationStatus.PENDING.value}
        if idempotency_key:
            request_idempotency_store(scope=IDEMPOTENCY_SCOPE, owner=IDEMPOTENCY_OWNER, key=idempotency_key,
                                      status_code=201, body=body)
    logger.info("application submitted application_id=%s", application_id)
    return SubmitResult(status_code=201, body=body)


def _decide(*, transaction_id: str, approve: bool, actor: str, reviewer: str, comment: str) -> Application:
    with transaction.atomic(durable=True):
        application = Application.objects.select_for_update().filter(transaction_id=transaction_id).first()
        if application is None:
            raise ApplicationNotFoundError("Application not found with the provided transaction ID")
        if application.status != ApplicationStatus.PENDING:
            verb = "confirmed" if approve else "rejected"
            raise ApplicationStateError(f"Application cannot be {verb}",
                                        extra={"currentStatus": application.status})
        now = _now_iso()
        new_status = ApplicationStatus.CONFIRMED if approve else ApplicationStatus.REJECTED
        snapshot = {**application.snapshot, "status": new_status.value, "updatedAt": now,
                    ("confirmedAt" if approve else "rejectedAt"): now,
                    "reviewedBy": reviewer, "reviewComment": comment}
        event_type = ev.APPLICATION_CONFIRMED if approve else ev.APPLICATION_REJECTED
        _append(application=application, application_id=application.application_id, transaction_id=transaction_id,
                event_type=event_type, snapshot=snapshot, actor=actor,
                history={"comment": comment, "actor": actor}, metadata={"comment": comment, "reviewer": reviewer})
        version = application.version + 1
        if approve:
            outbox_enqueue(key=ev.outbox_key(ev.KIND_CREATE_ACCOUNT, application.application_id),
                           kind=ev.KIND_CREATE_ACCOUNT, aggregate_id=application.application_id,
                           event_version=version, event_type=event_type,
                           payload={"applicationId": application.application_id, "transactionId": transaction_id,
                                    "customerInfo": snapshot["customerInfo"], "accountType": snapshot["accountType"],
                                    "action": ev.KIND_CREATE_ACCOUNT})
        elif settings.ACCOUNTS_REJECTION_MAIL:
            outbox_enqueue(key=ev.outbox_key(ev.KIND_NOTIFY_REJECTION, application.application_id),
                           kind=ev.KIND_NOTIFY_REJECTION, aggregate_id=application.application_id,
                           event_version=version, event_type=event_type,
                           payload={"applicationId": application.application_id, "transactionId": transaction_id,
                                    "action": ev.KIND_NOTIFY_REJECTION})
    application.refresh_from_db()
    logger.info("application %s application_id=%s actor=%s", new_status.value.lower(), application.application_id,
                actor)
    return application


def application_approve(*, transaction_id: str, actor: str, reviewer: str = "", comment: str = "") -> Application:
    """PENDING → CONFIRMED: `AccountOpeningApplicationConfirmed` (who, comment) + outbox `create_account-{id}`.

    Raises ApplicationNotFoundError (404), ApplicationStateError (400, currentStatus) unless PENDING,
    ConcurrencyError (409) when a concurrent writer won the version.
    """
    return _decide(transaction_id=transaction_id, approve=True, actor=actor, reviewer=reviewer, comment=comment)


def application_reject(*, transaction_id: str, actor: str, reviewer: str = "", comment: str = "") -> Application:
    """PENDING → REJECTED: `AccountOpeningApplicationRejected` (who, comment) [+ `notify_rejection-{id}`].

    Raises like `application_approve`.
    """
    return _decide(transaction_id=transaction_id, approve=False, actor=actor, reviewer=reviewer, comment=comment)


def application_receipt_notified(*, application_id: str, actor: str) -> None:
    """Append `AccountOpeningNotificationReceiptNotified` once (relay settle transaction; no-op if recorded)."""
    with transaction.atomic():
        application = _lock_by_application_id(application_id)
        if application is None or application.snapshot.get("receiptNotified"):
            return
        snapshot = {**application.snapshot, "receiptNotified": True, "receiptNotifiedAt": _now_iso()}
        _append(application=application, application_id=application_id, transaction_id=application.transaction_id,
                event_type=ev.RECEIPT_NOTIFIED, snapshot=snapshot, actor=actor)


def application_completion_notified(*, application_id: str, actor: str) -> None:
    """Append `AccountOpeningNotificationCompletionNotified` once (relay settle transaction)."""
    with transaction.atomic():
        application = _lock_by_application_id(application_id)
        if application is None or application.snapshot.get("completionNotified"):
            return
        snapshot = {**application.snapshot, "completionNotified": True, "completionNotifiedAt": _now_iso()}
        _append(application=application, application_id=application_id, transaction_id=application.transaction_id,
                event_type=ev.COMPLETION_NOTIFIED, snapshot=snapshot, actor=actor)


def application_complete(*, application_id: str, customer_id: str, account_id: str, account_number: str,
                         branch_code: str, actor: str) -> Application:
    """CONFIRMED → COMPLETED after core created customer and account (relay settle transaction, R32).

    In one transaction: the login (unusable password, must change at first login; the completion mail
    issues the temporary password), `AccountOpeningApplicationCompleted`, the balance read-model row and
    outbox `notify_completion-{id}`. Already COMPLETED → no-op. Raises ApplicationStateError otherwise,
    LoginIdExists / CustomerExists (409) if a login already exists.
    """
    with transaction.atomic():
        application = _lock_by_application_id(application_id)
        if application is None:
            raise ApplicationNotFoundError("Application not found")
        if application.status == ApplicationStatus.COMPLETED:
            return application
        if application.status != ApplicationStatus.CONFIRMED:
            raise ApplicationStateError("Application cannot be completed", extra={"currentStatus": application.status})
        login_id = login_id_for_customer(customer_id=customer_id)
        user_register(customer_id=customer_id, primary_account_id=account_id, email=application.email,
                      password=None, login_id=login_id)
        now = _now_iso()
        snapshot = {key: value for key, value in application.snapshot.items()
                    if key not in ("provisioningError", "provisioningFailedAt")}
        snapshot.update({"status": ApplicationStatus.COMPLETED.value, "customerId": customer_id,
                         "accountId": account_id, "accountNumber": account_number, "branchCode": branch_code,
                         "loginId": login_id,
                         "completedAt": now, "updatedAt": now, "completionNotified": False})
        _append(application=application, application_id=application_id, transaction_id=application.transaction_id,
                event_type=ev.APPLICATION_COMPLETED, snapshot=snapshot, actor=actor,
                history={"accountId": account_id, "accountNumber": account_number})
        account_balance_open(account_id=account_id, customer_id=customer_id, account_type=application.account_type)
        outbox_enqueue(key=ev.outbox_key(ev.KIND_NOTIFY_COMPLETION, application_id), kind=ev.KIND_NOTIFY_COMPLETION,
                       aggregate_id=application_id, event_version=application.version + 1,
                       event_type=ev.APPLICATION_COMPLETED,
                       payload={"applicationId": application_id, "transactionId": application.transaction_id,
                                "action": ev.KIND_NOTIFY_COMPLETION})
    application.refresh_from_db()
    logger.info("application completed application_id=%s customer_id=%s account_id=%s", application_id, customer_id,
                account_id)
    return application


def application_provisioning_fail(*, application_id: str, reason: str, actor: str) -> None:
    """Record that provisioning stopped (definitive core refusal or attempts exhausted):
    `AccountOpeningProvisioningFailed`; the application stays CONFIRMED until a staff retry succeeds (R34)."""
    with transaction.atomic():
        application = _lock_by_application_id(application_id)
        if application is None or application.status != ApplicationStatus.CONFIRMED:
            return
        snapshot = {**application.snapshot, "provisioningError": reason[:500], "provisioningFailedAt": _now_iso()}
        _append(application=application, application_id=application_id, transaction_id=application.transaction_id,
                event_type=ev.PROVISIONING_FAILED, snapshot=snapshot, actor=actor, history={"error": reason[:500]})
    logger.warning("application provisioning failed application_id=%s: %s", application_id, reason[:200])


def application_provisioning_retry(*, application_id: str, actor: str) -> OutboxMessage:
    """Staff retry of a dead-lettered `create_account-{id}` row (resumes from its progress, R34, R19).

    Raises ApplicationNotFoundError, ApplicationStateError unless CONFIRMED, NotDeadLetteredError (409)
    when the row is not dead-lettered.
    """
    application = Application.objects.filter(application_id=application_id).first()
    if application is None:
        raise ApplicationNotFoundError("Application not found")
    if application.status != ApplicationStatus.CONFIRMED:
        raise ApplicationStateError("Application is not being provisioned", extra={"currentStatus": application.status})
    message = OutboxMessage.objects.filter(key=ev.outbox_key(ev.KIND_CREATE_ACCOUNT, application_id)).first()
    if message is None:
        raise ProvisioningNotRetryableError("No provisioning row exists for this application")
    return outbox_replay(message_id=message.id, actor=actor)
