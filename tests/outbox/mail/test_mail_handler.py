"""MailHandler: sent once per outbox row through the real relay, never twice on redelivery; SMTP failure retries."""
import smtplib

import pytest
from django.core import mail
from django.db import transaction

from outbox import relay
from outbox.mail import MailContent, MailHandler, message_id_for
from outbox.models import OutboxMessage, OutboxStatus, SentMail
from outbox.registry import Delivery
from outbox.services import outbox_enqueue

pytestmark = pytest.mark.django_db
KIND = "test_notify_mail"


class GreetingMailHandler(MailHandler):
    """Sends the test template to the payload's address; counts its after_sent hook calls."""

    template = "outbox_test/greeting"

    def __init__(self) -> None:
        self.after_sent_keys: list[str] = []

    def compose(self, message: OutboxMessage) -> MailContent:
        return MailContent(recipient=message.payload["email"], context={"name": message.payload["name"]})

    def after_sent(self, message: OutboxMessage, delivery: Delivery) -> None:
        self.after_sent_keys.append(message.key)


@pytest.fixture
def greeting_handler(register_outbox_handler):
    return register_outbox_handler(KIND, GreetingMailHandler())


def _enqueue(key: str = f"{KIND}-APP-1") -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(key=key, kind=KIND, aggregate_id="APP-1",
                              payload={"email": "taro@example.com", "name": "山田 太郎"})


def test_mail_is_sent_once_with_stable_message_id_when_relayed(greeting_handler):
    # given
    message = _enqueue()
    # when
    relay.drain(queue="notify")
    # then one mail, rendered from the template, with the Message-ID derived from the key
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["taro@example.com"]
    assert sent.subject == "ようこそ 山田 太郎 様"
    assert sent.extra_headers["Message-ID"] == message_id_for(message.key) == f"<{message.key}@bank.example>"
    assert SentMail.objects.get(key=message.key).recipient == "taro@example.com"
    assert greeting_handler.after_sent_keys == [message.key]
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.COMPLETED


def test_mail_is_not_sent_again_when_the_row_is_delivered_twice(greeting_handler):
    # given a row whose mail went out
    message = _enqueue()
    relay.drain(queue="notify")
    # when the same row is delivered again (at-least-once relay, or an operator replay)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PENDING)
    relay.drain(queue="notify")
    # then no second mail
    assert len(mail.outbox) == 1
    assert SentMail.objects.filter(key=message.key).count() == 1


def test_mail_is_retried_when_the_mail_server_refuses_the_connection(greeting_handler, monkeypatch):
    # given a mail server that is down
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPConnectError(421, "down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    message = _enqueue()
    # when
    relay.drain(queue="notify")
    # then nothing is recorded as sent and the row waits for a retry
    row = OutboxMessage.objects.get(pk=message.pk)
    assert row.status == OutboxStatus.PENDING
    assert "SMTPConnectError" in row.error_message
    assert not SentMail.objects.exists()
    assert greeting_handler.after_sent_keys == []
