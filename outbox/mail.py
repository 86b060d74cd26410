"""Customer mail through the outbox (flows.md R35–R37): only the relay sends, at most once per row.

An app registers one `MailHandler` subclass per notification kind (queue `notify`, 5 attempts):

    class ReceiptMailHandler(MailHandler):
        template = "accounts/mail/receipt"            # .subject.txt and .body.txt, rendered in `language`
        def compose(self, message) -> MailContent: ...
        def after_sent(self, message, delivery): ...  # e.g. append AccountOpeningNotificationReceiptNotified

At most once: `deliver` sends only if no `SentMail` exists for the row's key, with a Message-ID derived
from the key (a de-duplicating mail server drops a repeat); `on_success` records the `SentMail` in the
settle transaction. A worker that dies between sending and settling leaves an expired lease, and the
relay dead-letters the row as "delivery unknown" (retry_after_lease_expiry = False) instead of sending
again. A connection failure before anything was sent is retried with backoff.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from outbox.models import OutboxMessage, SentMail
from outbox.registry import Delivery

logger = logging.getLogger("bank.outbox.mail")

MAIL_QUEUE = "notify"
MAIL_MAX_ATTEMPTS = 5  # R15: notifications


@dataclass(frozen=True)
class MailContent:
    """What to send: the recipient and the template context (the template renders subject and body)."""

    recipient: str
    context: dict[str, Any]
    language: str = "ja"


def message_id_for(key: str) -> str:
    """A stable RFC 5322 Message-ID for an outbox key (the same row always yields the same id)."""
    return f"<{key}@{settings.MAIL_MESSAGE_ID_DOMAIN}>"


class MailHandler:
    """Base of every notification kind. Subclasses set `template` and implement `compose`."""

    queue = MAIL_QUEUE
    max_attempts = MAIL_MAX_ATTEMPTS
    retry_after_lease_expiry = False
    template: str = ""

    def compose(self, message: OutboxMessage) -> MailContent | None:
        """Recipient and context from the local database (never from core, never sample data);
        None = nothing to send."""
        raise NotImplementedError

    def after_sent(self, message: OutboxMessage, delivery: Delivery) -> None:
        """Hook inside the settle transaction after the mail was recorded (append an event, …)."""

    def deliver(self, message: OutboxMessage) -> Delivery:
        """Send the mail unless this row's mail was already sent. Runs outside any transaction."""
        if SentMail.objects.filter(key=message.key).exists():
            return Delivery.success(result={"alreadySent": True})
        content = self.compose(message)
        if content is None:
            return Delivery.success(result={"skipped": True})
        with translation.override(content.language):
            subject = render_to_string(f"{self.template}.subject.txt", content.context).strip()
            body = render_to_string(f"{self.template}.body.txt", content.context)
        email = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                             to=[content.recipient], headers={"Message-ID": message_id_for(message.key)})
        try:
            email.send(fail_silently=False)
        except (OSError, smtplib.SMTPException) as exc:
            # Nothing was accepted by the mail server: safe to try again later.
            return Delivery.retry(error=f"mail not sent ({type(exc).__name__})")
        logger.info("mail sent key=%s kind=%s", message.key, message.kind)
        return Delivery.success(result={"recipient": content.recipient, "subject": subject[:255]})

    def on_success(self, message: OutboxMessage, delivery: Delivery) -> None:
        """Record the sent mail (settle transaction), then run the app's hook."""
        if delivery.result.get("skipped"):
            return
        if not delivery.result.get("alreadySent"):
            SentMail.objects.get_or_create(key=message.key, defaults={
                "kind": message.kind, "aggregate_id": message.aggregate_id, "message_id": message_id_for(message.key),
                "recipient": delivery.result["recipient"], "subject": delivery.result["subject"]})
        self.after_sent(message, delivery)
