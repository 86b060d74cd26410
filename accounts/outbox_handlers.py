"""Outbox handlers of account opening: provisioning in core banking and the customer mails (R32–R37).

- `create_account` (queue `core`): core customer (key `customer-{applicationId}`), then core account (key
  `account-{applicationId}`); each result goes into the row's `progress`, so a retry or replay resumes
  and the core's idempotency makes a repeat return the stored answer (never a second customer/account).
  Ambiguous answers (timeouts, 5xx, core down) are retried with backoff by the relay; a definitive refusal
  (400/404/409/422) records `AccountOpeningProvisioningFailed` and dead-letters the row at once, so it is
  visible (admin filter, stuck list) and staff can replay it after fixing the cause.
- `notify_receipt`, `notify_completion`, `notify_rejection` (queue `notify`): at most once per row
  (outbox.mail.MailHandler). The completion mail issues the temporary password when it is composed:
  only its hash is stored, the plaintext lives in the mail alone (R33).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts import events as ev
from accounts import services
from accounts.models import AccountType, Application
from auth_app.services import user_issue_temporary_password
from outbox.core_banking import client as core_client
from outbox.core_banking.client import CoreResult, Outcome
from outbox.mail import MailContent, MailHandler
from outbox.models import OutboxMessage
from outbox.registry import Delivery

logger = logging.getLogger("bank.accounts.outbox_handlers")

RELAY_ACTOR = "system:relay"
MAIL_ACTOR = "system:mail"


class CreateAccountHandler:
    """Provision an approved application in core banking (customer, then account), resumable via `progress`."""

    queue = "core"

    def __init__(self) -> None:
        self.max_attempts = settings.ACCOUNTS_CREATE_ACCOUNT_MAX_ATTEMPTS

    @staticmethod
    def _not_done(*, step: str, result: CoreResult, progress: dict) -> Delivery:
        error = f"core {step}: {result.error or 'no answer'}"
        if result.outcome is Outcome.DEFINITE:
            # Only staff can resolve a refusal of provisioning: dead-letter the row so it stays open and
            # replayable (I5, R34) instead of ending `completed`.
            return Delivery.failed(error=error, http_status=result.http_status, progress=progress, dead_letter=True)
        return Delivery.retry(error=error, http_status=result.http_status, ambiguous=True, progress=progress)

    def deliver(self, message: OutboxMessage) -> Delivery:
        """Create what is still missing in core; runs outside any transaction."""
        application_id = message.payload["applicationId"]
        progress = dict(message.progress or {})
        if not progress.get("customerId"):
            result = core_client.customer_create(customer_info=message.payload["customerInfo"],
                                                 idempotency_key=f"customer-{application_id}")
            if result.outcome is not Outcome.SUCCESS:
                return self._not_done(step="customer", result=result, progress=progress)
            progress["customerId"] = str(result.body["customerId"])
        if not progress.get("accountId"):
            result = core_client.account_create(customer_id=progress["customerId"],
                                                account_type=message.payload.get("accountType", AccountType.SAVINGS),
                                                idempotency_key=f"account-{application_id}")
            if result.outcome is not Outcome.SUCCESS:
                return self._not_done(step="account", result=result, progress=progress)
            account_id = str(result.body["accountId"])
            account_number = str(result.body.get("accountNumber") or account_id)
            progress.update(accountId=account_id, accountNumber=account_number,
                            branchCode=str(result.body.get("branchCode") or account_number[:3]))
        return Delivery.success(http_status=201, progress=progress)

    def on_success(self, message: OutboxMessage, delivery: Delivery) -> None:
        """Settle transaction: complete the application (login, event, balance row, completion mail row)."""
        progress = {**message.progress, **(delivery.progress or {})}
        services.application_complete(application_id=message.aggregate_id, customer_id=progress["customerId"],
                                      account_id=progress["accountId"], account_number=progress["accountNumber"],
                                      branch_code=progress["branchCode"], actor=RELAY_ACTOR)

    def on_failure(self, message: OutboxMessage, delivery: Delivery) -> None:
        """Settle transaction of a definitive refusal (the relay dead-letters the row): record the visible
        failed state on the application."""
        services.application_provisioning_fail(application_id=message.aggregate_id, reason=delivery.error,
                                               actor=RELAY_ACTOR)

    def on_dead_letter(self, message: OutboxMessage) -> None:
        """Attempts exhausted (or lease expired past the budget): record the visible failed state."""
        services.application_provisioning_fail(application_id=message.aggregate_id,
                                               reason=f"attempts exhausted: {message.error_message or 'unknown'}",
                                               actor=RELAY_ACTOR)


def _application(message: OutboxMessage) -> Application | None:
    return Application.objects.filter(application_id=message.aggregate_id).first()


def _common_context(application: Application) -> dict:
    return {"application": application, "full_name": application.full_name,
            "application_id": application.application_id, "transaction_id": application.transaction_id,
            "submitted_at": application.created_at, "bank_name": settings.ACCOUNTS_BANK_NAME,
            "online_banking_url": online_banking_url()}


def online_banking_url() -> str:
    """Where the applicant logs in first: ACCOUNTS_ONLINE_BANKING_URL if set, else this site's login page."""
    return settings.ACCOUNTS_ONLINE_BANKING_URL or settings.SITE_URL + reverse("web-login")


def _language(application: Application) -> str:
    return application.snapshot.get("language") or "ja"


class ApplicationMailHandler(MailHandler):
    """A mail to the applicant with the application's common context, in the applicant's language."""

    def compose(self, message: OutboxMessage) -> MailContent | None:
        application = _application(message)
        if application is None:
            return None
        return MailContent(recipient=application.email, context=_common_context(application),
                           language=_language(application))


class ReceiptMailHandler(ApplicationMailHandler):
    """`notify_receipt`: 口座開設申込受付のお知らせ, then `AccountOpeningNotificationReceiptNotified`."""

    template = "accounts/mail/receipt"

    def after_sent(self, message: OutboxMessage, delivery: Delivery) -> None:
        services.application_receipt_notified(application_id=message.aggregate_id, actor=MAIL_ACTOR)


class CompletionMailHandler(ApplicationMailHandler):
    """`notify_completion`: 口座開設完了のお知らせ with login id and a freshly issued temporary password,
    then `AccountOpeningNotificationCompletionNotified`. A retry after a failed send issues a new password."""

    template = "accounts/mail/completion"

    def compose(self, message: OutboxMessage) -> MailContent | None:
        application = _application(message)
        if application is None or not application.customer_id:
            return None
        user = get_user_model().objects.filter(customer_id=application.customer_id).first()
        if user is None:
            return None
        temporary_password = user_issue_temporary_password(user=user)
        account_number = application.account_number
        context = {**_common_context(application), "login_id": user.get_username(),
                   "temporary_password": temporary_password,
                   "account_number_display": f"{account_number[:3]}-{account_number[3:]}",
                   "account_type": application.account_type, "opened_at": application.completed_at}
        return MailContent(recipient=application.email, context=context, language=_language(application))

    def after_sent(self, message: OutboxMessage, delivery: Delivery) -> None:
        services.application_completion_notified(application_id=message.aggregate_id, actor=MAIL_ACTOR)


class RejectionMailHandler(ApplicationMailHandler):
    """`notify_rejection` (MAY, R37): a short notice that the application could not be accepted."""

    template = "accounts/mail/rejection"


def handlers_register() -> None:
    """Register the account-opening outbox handlers (AccountsConfig.ready)."""
    from outbox.registry import register_handler

    register_handler(ev.KIND_CREATE_ACCOUNT, CreateAccountHandler())
    register_handler(ev.KIND_NOTIFY_RECEIPT, ReceiptMailHandler())
    register_handler(ev.KIND_NOTIFY_COMPLETION, CompletionMailHandler())
    register_handler(ev.KIND_NOTIFY_REJECTION, RejectionMailHandler())
