"""Browser journeys (issue 8): Playwright drives Debian's Chromium against pytest-django's live server,
the core mock over HTTP, and a relay thread that completes transfers and provisioning while the page
watches. With BANK_SCREENSHOT_DIR set (`make screenshots` → docs/screenshots/) each main page is saved
as a PNG for docs/guide.md; without it no file is written."""
from __future__ import annotations

import re
import time

import pytest
from django.core import mail

from tests.fixtures.accounts import password_from_mail
from tests.fixtures.auth import CUSTOMER_PASSWORD, STAFF_PASSWORD
from tests.web.browser_support import CHROMIUM, CHROMIUM_ARGS, LOGIN_IN_MAIL, RelayThread, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.django_db(transaction=True, databases=["default", "core"])]

NEW_PASSWORD = "Kirin-Sakura-7788"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser():
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread for the module; the ORM calls of the
    # tests and of pytest-django's teardown (flush) are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, core_db, core_server, settings, monkeypatch, outbox_nudges, fast_retries):
    """The live site with cookies over plain http, and a running relay."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SITE_URL = live_server.url  # the completion mail links to this server's /login
    relay = RelayThread()
    relay.start()
    yield live_server.url, relay
    relay.stop()
    assert not relay.errors, relay.errors


@pytest.fixture
def new_page(browser):
    contexts = []

    def _page(**options):
        context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1100, "height": 900},
                                      **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _page
    for context in contexts:
        context.close()


def _login(page, url, login_id, password):
    page.goto(f"{url}/login")
    page.fill("#id_login_id", login_id)
    page.fill("#id_password", password)
    page.click("form.card button[type=submit]")


def _start_transfer(page, url, amount="12345"):
    page.goto(f"{url}/transfer")
    page.fill("#id_target_account_id", "0017654321")
    page.fill("#id_amount", amount)
    page.fill("#id_description", "家賃")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("[data-testid=confirm-submit]")


def test_apply_then_staff_approves_then_first_login_with_mailed_password(site, new_page, make_user):
    url, _relay = site
    make_user("boss", password=STAFF_PASSWORD, is_staff=True, is_superuser=True, email="boss@bank.example")
    page = new_page()
    page.goto(url + "/")
    shot(page, "01-home")
    page.click("text=口座開設を申し込む")
    # step 1, with one mistake first: the field message and a focused error summary
    page.fill("#id_full_name", "山田 花子")
    page.fill("#id_kana", "yamada")
    page.fill("#id_birthdate", "1990-04-01")
    page.select_option("#id_id_type", "drivingLicense")
    page.fill("#id_id_number", "DL-123456")
    page.click("text=次へ")
    page.wait_for_selector("[data-error-summary]")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert "全角カタカナ" in page.inner_text("#id_kana-error")
    shot(page, "02-apply-step1-error")
    page.fill("#id_kana", "ヤマダ ハナコ")
    page.click("text=次へ")
    # step 2, then back and forth: what was typed is kept
    page.fill("#id_email", "hanako@example.com")
    page.fill("#id_phone_number", "090-1234-5678")
    page.fill("#id_postal_code", "100-0001")
    page.fill("#id_address", "東京都千代田区千代田1-1")
    shot(page, "03-apply-step2")
    page.click("button[name=back]")
    assert page.input_value("#id_full_name") == "山田 花子"
    assert page.input_value("#id_kana") == "ヤマダ ハナコ"
    page.click("text=次へ")
    assert page.input_value("#id_email") == "hanako@example.com"
    page.click("text=次へ")
    review = page.inner_text("[data-testid=review]")
    assert "山田 花子" in review and "東京都千代田区千代田1-1" in review
    shot(page, "04-apply-review")
    # the terms checkbox is required: without it the page says so next to the box
    page.click("[data-testid=apply-submit]")
    page.wait_for_selector("#id_accept_terms-error")
    assert "利用規約への同意が必要です" in page.inner_text("#id_accept_terms-error")
    assert "support@bank.example" in page.inner_text("[data-testid=support-contact]")
    page.check("#id_accept_terms")
    page.click("[data-testid=apply-submit]")
    application_id = page.inner_text("[data-testid=application-id]")
    assert application_id.startswith("APP-")
    shot(page, "05-apply-done")

    # staff approves in the Django admin with a comment
    staff = new_page()
    staff.goto(url + "/admin/login/")
    staff.fill("#id_username", "boss")
    staff.fill("#id_password", STAFF_PASSWORD)
    staff.click("input[type=submit]")
    shot(staff, "06-admin-index-status-panel")
    assert staff.is_visible("[data-testid=status-panel]")
    staff.goto(url + "/admin/accounts/application/")
    staff.check("input[name=_selected_action]")
    staff.select_option("select[name=action]", "approve_selected")
    staff.click("button[name=index]")
    staff.fill("textarea[name=comment]", "本人確認済み")
    shot(staff, "07-admin-approve-comment")
    staff.click("input[type=submit]")
    staff.wait_for_selector("ul.messagelist")

    # the relay provisions the account and mails the credentials
    deadline = time.monotonic() + 20
    completion = None
    while completion is None and time.monotonic() < deadline:
        completion = next((m for m in mail.outbox if "完了" in m.subject and "hanako@example.com" in m.to), None)
        time.sleep(0.2)
    assert completion is not None, [m.subject for m in mail.outbox]
    login_id = LOGIN_IN_MAIL.search(completion.body).group(1)
    temporary = password_from_mail(completion.body)

    # first login: forced change, then the dashboard
    _login(page, url, login_id, temporary)
    page.wait_for_url(re.compile(r"/password/change$"))
    shot(page, "08-forced-password-change")
    page.goto(url + "/dashboard")  # every customer page insists on the change first
    page.wait_for_url(re.compile(r"/password/change$"))
    page.fill("#id_current_password", temporary)
    page.fill("#id_new_password", NEW_PASSWORD)
    page.fill("#id_new_password_confirm", NEW_PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard$"))
    assert page.is_visible("[data-testid=balance-card]")


def test_transfer_status_updates_live_until_completed(site, new_page, payer, payee):
    url, _relay = site
    page = new_page()
    _login(page, url, payer.get_username(), CUSTOMER_PASSWORD)
    page.wait_for_url(re.compile(r"/dashboard$"))
    shot(page, "10-dashboard")
    _start_transfer(page, url)
    assert page.inner_text("[data-testid=confirm-amount]") == "¥12,345"
    shot(page, "11-transfer-confirm")
    page.click("[data-testid=confirm-submit]")
    page.wait_for_selector("[data-testid=transaction-id]")
    status_url = page.url
    page.evaluate("window.__noReload = true")
    page.wait_for_selector("[data-testid=transfer-outcome]:has-text('振込完了')", timeout=TIMEOUT_MS)
    # the page was updated in place by htmx, never reloaded
    assert page.evaluate("window.__noReload === true") and page.url == status_url
    assert page.get_attribute("[data-step=deposit]", "data-state") == "done"
    assert page.get_attribute("#transfer-steps", "hx-trigger") is None  # polling stopped
    shot(page, "12-transfer-completed")
    page.goto(url + "/history")
    assert "¥12,345" in page.inner_text("main")
    shot(page, "13-history")


def test_double_click_and_browser_retry_create_one_transfer(site, new_page, payer, payee):
    from transfers.models import Transfer

    url, _relay = site
    page = new_page()
    _login(page, url, payer.get_username(), CUSTOMER_PASSWORD)
    page.wait_for_url(re.compile(r"/dashboard$"))
    _start_transfer(page, url, amount="5000")
    form = page.eval_on_selector("form[data-once]", "f => Object.fromEntries(new FormData(f))")
    page.dblclick("[data-testid=confirm-submit]")
    page.wait_for_selector("[data-testid=transaction-id]")
    first = page.inner_text("[data-testid=transaction-id]")
    # a browser retry of the same confirmation (same idempotency key) lands on the same transfer
    retry = page.request.post(f"{url}/transfer/submit", form=form)
    assert retry.ok and retry.url.endswith(f"/transfers/{first}")
    assert Transfer.objects.count() == 1


def test_wrong_password_shows_message_and_focuses_summary(site, new_page, payer):
    url, _relay = site
    page = new_page()
    _login(page, url, payer.get_username(), "wrong-password-123")
    page.wait_for_selector("[data-error-summary]")
    assert "ログインIDまたはパスワードが正しくありません" in page.inner_text("[data-error-summary]")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    shot(page, "20-login-wrong-password")


def test_english_switch(site, new_page):
    url, _relay = site
    page = new_page()
    page.goto(url + "/")
    assert page.get_attribute("html", "lang") == "ja"
    page.select_option("#language-select", "en")
    page.click("[data-testid=language-submit]")
    page.wait_for_selector("h1:has-text('Sample Bank online banking')")
    assert page.get_attribute("html", "lang") == "en"
    page.click("text=Apply for an account")
    assert page.is_visible("label[for=id_full_name]:has-text('Full name')")
    shot(page, "21-english-apply")


def test_transfer_status_without_javascript(site, new_page, payer, payee):
    url, relay = site
    page = new_page(java_script_enabled=False)
    _login(page, url, payer.get_username(), CUSTOMER_PASSWORD)
    relay.pause()
    _start_transfer(page, url, amount="777")
    page.click("[data-testid=confirm-submit]")
    page.wait_for_selector("[data-testid=reload-link]")
    shot(page, "22-nojs-status-in-progress")
    relay.resume()
    for _ in range(40):
        page.click("[data-testid=reload-link]")
        if "振込完了" in page.inner_text("[data-testid=transfer-outcome]"):
            break
        time.sleep(0.3)
        if not page.is_visible("[data-testid=reload-link]"):
            break
    assert "振込完了" in page.inner_text("[data-testid=transfer-outcome]")
    shot(page, "23-nojs-status-completed")


def test_staff_takes_core_down_and_the_waiting_transfer_completes_after_recovery(site, new_page, make_user, payer,
                                                                                  payee, settings):
    """docs/guide.md's outage demonstration: the fault panel sets core `down`, the customer's transfer is
    accepted and waits (balance still shown), the admin shows the backlog and the retries, `up` drains it,
    and the transfer's event timeline tells the whole story."""
    from outbox.models import OutboxMessage
    from transfers.models import Transfer

    url, _relay = site
    # Retries at most 2 s apart: the row keeps retrying through a short outage and is delivered within
    # seconds of the recovery (defaults: base 1 s, cap 300 s).
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 1.0
    settings.OUTBOX_BACKOFF_CAP_SECONDS = 2.0
    make_user("boss", password=STAFF_PASSWORD, is_staff=True, is_superuser=True, email="boss@bank.example")
    staff = new_page()
    staff.set_viewport_size({"width": 1500, "height": 900})  # the admin's event table is wide
    staff.goto(url + "/admin/login/")
    staff.fill("#id_username", "boss")
    staff.fill("#id_password", STAFF_PASSWORD)
    staff.click("input[type=submit]")
    staff.wait_for_selector("[data-testid=status-panel]")

    # given: staff sets the core-banking mock down on the fault panel
    staff.goto(url + "/admin/core-faults/")
    staff.select_option("#id_group", "all")
    staff.select_option("#id_mode", "down")
    staff.click("form:has(input[name=action][value=set]) input[type=submit]")
    staff.wait_for_selector("ul.messagelist")
    assert "'down': True" in staff.inner_text("[data-testid=fault-settings]")
    shot(staff, "30-fault-panel-core-down")

    # when: the customer transfers while core is down
    page = new_page()
    _login(page, url, payer.get_username(), CUSTOMER_PASSWORD)
    page.wait_for_url(re.compile(r"/dashboard$"))
    _start_transfer(page, url, amount="4321")
    page.click("[data-testid=confirm-submit]")
    page.wait_for_selector("[data-testid=transaction-id]")
    transaction_id = page.inner_text("[data-testid=transaction-id]")
    withdraw = OutboxMessage.objects.get(key=f"withdraw-{transaction_id}")
    deadline = time.monotonic() + 10
    while withdraw.retry_count < 2 and time.monotonic() < deadline:  # a few failed attempts against core
        time.sleep(0.2)
        withdraw.refresh_from_db()
    # then: it is accepted and waits; the balance page still answers from the read model
    assert page.get_attribute("[data-step=received]", "data-state") == "done"
    assert page.get_attribute("[data-step=deposit]", "data-state") == "pending"
    assert withdraw.status in ("pending", "processing") and withdraw.retry_count >= 2
    shot(page, "31-transfer-waiting-core-down")
    dashboard = page.context.new_page()  # same customer session, second tab
    dashboard.goto(url + "/dashboard")
    assert dashboard.is_visible("[data-testid=balance-card]")
    shot(dashboard, "32-dashboard-while-core-down")
    staff.goto(url + "/admin/")
    assert staff.is_visible("[data-testid=status-panel]")
    shot(staff, "33-admin-status-panel-backlog")
    staff.goto(f"{url}/admin/outbox/outboxmessage/{withdraw.pk}/change/")
    assert "503" in staff.inner_text("#content")
    shot(staff, "34-outbox-row-retrying")

    # when: staff brings core back up
    staff.goto(url + "/admin/core-faults/")
    staff.select_option("#id_group", "all")
    staff.select_option("#id_mode", "up")
    staff.click("form:has(input[name=action][value=set]) input[type=submit]")
    staff.wait_for_selector("ul.messagelist")
    # then: the waiting transfer completes on the customer's open status page
    page.wait_for_selector("[data-testid=transfer-outcome]:has-text('振込完了')", timeout=TIMEOUT_MS)
    shot(page, "35-transfer-completed-after-recovery")
    transfer = Transfer.objects.get(transaction_id=transaction_id)
    assert transfer.phase == "COMPLETED"
    staff.goto(f"{url}/admin/transfers/transfer/{transfer.pk}/change/")
    timeline = staff.inner_text("#content")
    assert "TransferRequested" in timeline and "TransferCompleted" in timeline
    shot(staff, "36-admin-transfer-timeline")
    staff.goto(url + "/admin/outbox/outboxmessage/")
    shot(staff, "37-admin-outbox-list")


def test_staff_reads_an_account_as_of_a_past_time_in_the_admin(site, new_page, make_user, open_account, post_entry):
    """The admin's "as of" form on an account page: balance and postings rebuilt from the postings then."""
    import datetime as dt

    from django.utils import timezone

    url, _relay = site
    make_user("boss", password=STAFF_PASSWORD, is_staff=True, is_superuser=True, email="boss@bank.example")
    account = open_account("0019000077", "CUST977")
    now = timezone.now()
    post_entry(account, 1_000_000, type="OPENING_CREDIT", at=now - dt.timedelta(days=10), core_transaction_id="ASOF1")
    post_entry(account, -250_000, type="TRANSFER_WITHDRAWAL", at=now - dt.timedelta(days=2),
               core_transaction_id="ASOF2")
    staff = new_page()
    staff.goto(url + "/admin/login/")
    staff.fill("#id_username", "boss")
    staff.fill("#id_password", STAFF_PASSWORD)
    staff.click("input[type=submit]")
    staff.goto(f"{url}/admin/balance/accountbalance/{account.pk}/change/")
    assert "¥750,000" in staff.inner_text("[data-testid=balance-as-of]")
    # when staff type a Japan time five days ago into the form above the page
    staff.fill("#as-of-input", timezone.localtime(now - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    staff.click("[data-testid=as-of-form] button[type=submit]")
    staff.wait_for_url(re.compile(r"as_of="))
    # then the page shows the balance then, and only the postings up to then
    assert "¥1,000,000" in staff.inner_text("[data-testid=balance-as-of]")
    postings = staff.inner_text("[data-testid=postings-as-of]")
    assert "ASOF1" in postings and "ASOF2" not in postings
    shot(staff, "38-admin-account-as-of")
