"""Mail handlers: at most once per row even when the relay delivers it twice; password issued per send."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db.models.functions import Now

from accounts.services import application_complete
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage, SentMail
from outbox.relay import drain
from tests.fixtures.accounts import password_from_mail


@pytest.fixture
def completed_application(approved_application):
    return application_complete(application_id=approved_application.application_id, customer_id="CUST-424242",
                                account_id="0014242420", account_number="0014242420", branch_code="001",
                                actor="system:test")


@pytest.mark.django_db
def test_completion_creates_login_without_usable_password_when_provisioned(completed_application):
    # then
    user = get_user_model().objects.get(customer_id="CUST-424242")
    assert user.username == "user-424242" == completed_application.login_id
    assert not user.has_usable_password()
    assert user.must_change_password
    assert OutboxMessage.objects.filter(key=f"notify_completion-{completed_application.application_id}").exists()


@pytest.mark.django_db
def test_completion_mail_is_sent_once_when_the_relay_delivers_the_row_twice(completed_application):
    # given
    drain(queue="notify", max_batches=None)
    first_mails = [m for m in mail.outbox if "口座開設完了" in m.subject]
    password = password_from_mail(first_mails[0].body)
    OutboxMessage.objects.filter(kind="notify_completion").update(status="pending", next_attempt_at=Now())

    # when
    drain(queue="notify", max_batches=None)

    # then
    assert len([m for m in mail.outbox if "口座開設完了" in m.subject]) == 1
    assert SentMail.objects.filter(kind="notify_completion").count() == 1
    assert get_user_model().objects.get(customer_id="CUST-424242").check_password(password)
    assert Event.objects.filter(aggregate_id=completed_application.application_id,
                                type="AccountOpeningNotificationCompletionNotified").count() == 1


@pytest.mark.django_db
def test_new_password_is_issued_when_the_first_send_failed(completed_application, monkeypatch, fast_retries):
    # given: the first send fails after the password was set
    from django.core.mail import EmailMessage

    original_send = EmailMessage.send
    calls = {"n": 0}

    def flaky_send(self, fail_silently=False):
        calls["n"] += 1
        if calls["n"] == 1 and "完了" in self.subject:
            raise OSError("smtp down")
        return original_send(self, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMessage, "send", flaky_send)

    # when
    drain(queue="notify", max_batches=None)
    drain(queue="notify", max_batches=None)

    # then: only the mailed password works
    sent = [m for m in mail.outbox if "口座開設完了" in m.subject]
    assert len(sent) == 1
    user = get_user_model().objects.get(customer_id="CUST-424242")
    assert user.check_password(password_from_mail(sent[0].body))


@pytest.mark.django_db
def test_receipt_mail_records_the_notification_event_when_sent(pending_application):
    # when
    drain(queue="notify", max_batches=None)

    # then
    assert [m.subject for m in mail.outbox] == ["【サンプル銀行】口座開設申込受付のお知らせ"]
    assert mail.outbox[0].to == ["taro@example.com"]
    event = Event.objects.get(aggregate_id=pending_application.application_id, version=2)
    assert (event.type, event.status) == ("AccountOpeningNotificationReceiptNotified", "completed")
    assert event.data["receiptNotified"] is True and event.data["receiptNotifiedAt"]
    assert event.metadata["processHistoryEntry"] == {"status": "notification_sent", "type": "receiptNotified"}


@pytest.mark.django_db
def test_receipt_mail_is_in_english_when_the_applicant_chose_english(submit_application, outbox_nudges):
    # given
    from accounts.services import application_submit
    from accounts.validation import application_input_parse
    from tests.fixtures.accounts import ORIGINAL_BODY

    application_submit(application_input=application_input_parse({**ORIGINAL_BODY, "language": "en"}))

    # when
    drain(queue="notify", max_batches=None)

    # then
    assert mail.outbox[0].subject.startswith("[サンプル銀行] We have received")


@pytest.mark.django_db
def test_projection_rebuild_equals_the_incremental_rows(completed_application):
    # given
    from accounts.models import Application
    from outbox.eventstore.services import projections_rebuild

    drain(queue="notify", max_batches=None)
    before = list(Application.objects.order_by("application_id").values())

    # when
    projections_rebuild(names=["accounts.application_row"])

    # then
    after = list(Application.objects.order_by("application_id").values())
    assert [{k: v for k, v in row.items() if k != "id"} for row in after] == \
        [{k: v for k, v in row.items() if k != "id"} for row in before]


@pytest.mark.django_db
def test_completion_mail_links_to_the_login_page_of_site_url(completed_application, settings):
    # given the stack serves on another host and port, and no explicit online-banking URL
    settings.SITE_URL = "http://bank.test:8123"
    settings.ACCOUNTS_ONLINE_BANKING_URL = ""
    # when the completion mail is sent
    drain(queue="notify", max_batches=None)
    # then its login link follows SITE_URL, not a fixed :8000
    body = next(m.body for m in mail.outbox if "口座開設完了" in m.subject)
    assert "http://bank.test:8123/login" in body
    assert ":8000" not in body


@pytest.mark.django_db
def test_completion_mail_uses_the_explicit_online_banking_url_when_set(completed_application, settings):
    settings.SITE_URL = "http://bank.test:8123"
    settings.ACCOUNTS_ONLINE_BANKING_URL = "https://ib.bank.example/first-login"
    drain(queue="notify", max_batches=None)
    body = next(m.body for m in mail.outbox if "口座開設完了" in m.subject)
    assert "https://ib.bank.example/first-login" in body


def test_site_url_default_follows_web_port_when_settings_load():
    # given WEB_PORT=8765 and no SITE_URL in the environment
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items() if key != "SITE_URL"} | {
        "WEB_PORT": "8765", "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    # when the settings are loaded in a fresh process
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                          "print(settings.SITE_URL)"], env=env, cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, timeout=60)
    # then SITE_URL follows the port
    assert out.stdout.strip() == "http://127.0.0.1:8765", out.stderr


def test_deploy_check_warns_when_site_url_is_loopback(settings):
    from accounts.apps import site_url_check

    settings.DEBUG = False
    settings.ACCOUNTS_ONLINE_BANKING_URL = ""
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert [w.id for w in site_url_check(None)] == ["accounts.W001"]
    settings.SITE_URL = "https://bank.example.jp"
    assert site_url_check(None) == []
