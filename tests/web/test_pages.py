"""Django test-client checks of every web page: who may see it, and what a bad input gets."""
from __future__ import annotations

import re

import pytest

from accounts.models import Application
from auth_app.models import LoginSession
from tests.fixtures.auth import CUSTOMER_PASSWORD, STAFF_PASSWORD
from tests.fixtures.transfers import PAYEE_ACCOUNT
from transfers.models import Transfer

pytestmark = pytest.mark.django_db


def _key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.content.decode()).group(1)


def _confirm(client, amount="1000", target=PAYEE_ACCOUNT):
    response = client.post("/transfer", {"target_account_id": target, "amount": amount, "description": "家賃"})
    assert response.status_code == 200, response.content.decode()[:2000]
    return {"target_account_id": target, "amount": amount, "description": "家賃", "idempotency_key": _key(response)}


# --- headers ---------------------------------------------------------------------------------------------

def test_home_sends_security_headers_when_anonymous(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert '<html lang="ja">' in response.content.decode()


def test_session_cookie_is_httponly_samesite_and_secure_when_not_debug(client, payer):
    response = client.post("/login", {"login_id": payer.username, "password": CUSTOMER_PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]


def test_set_language_switches_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert "Sample Bank online banking" in response.content.decode()


# --- login, logout, password change ---------------------------------------------------------------------

def test_login_shows_one_message_when_password_is_wrong(client, payer):
    response = client.post("/login", {"login_id": payer.username, "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert "ログインIDまたはパスワードが正しくありません" in response.content.decode()


def test_login_refuses_empty_fields_with_field_messages(client):
    response = client.post("/login", {"login_id": "", "password": ""})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()


def test_login_shows_lockout_page_when_too_many_failures(client, payer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login", {"login_id": payer.username, "password": "wrong-wrong-1"})
    response = client.post("/login", {"login_id": payer.username, "password": CUSTOMER_PASSWORD})
    assert response.status_code == 429
    assert "一時的にロック" in response.content.decode()


def test_login_ignores_external_next(client, payer):
    response = client.post("/login?next=https://evil.example/", {"login_id": payer.username,
                                                                  "password": CUSTOMER_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard"


def test_login_redirects_staff_to_admin(client, staff_user):
    response = client.post("/login", {"login_id": staff_user.username, "password": STAFF_PASSWORD})
    assert response["Location"] == "/admin/"


def test_logout_needs_post_and_ends_the_login_session(web_client, payer):
    client = web_client(payer)
    assert client.get("/logout").status_code == 405
    assert LoginSession.objects.filter(user=payer, is_active=True).count() == 1
    response = client.post("/logout")
    assert response.status_code == 302
    assert LoginSession.objects.filter(user=payer, is_active=True).count() == 0
    assert client.get("/dashboard").status_code == 302


def test_forced_password_change_blocks_customer_pages_until_done(client, make_user, payer):
    payer.must_change_password = True
    payer.save()
    response = client.post("/login", {"login_id": payer.username, "password": CUSTOMER_PASSWORD})
    assert response["Location"] == "/password/change"
    assert client.get("/dashboard")["Location"] == "/password/change"
    assert client.get("/transfer")["Location"] == "/password/change"
    bad = client.post("/password/change", {"current_password": CUSTOMER_PASSWORD, "new_password": "Kirin-Sakura-7788",
                                           "new_password_confirm": "different-7788x"})
    assert bad.status_code == 400 and "一致しません" in bad.content.decode()
    wrong = client.post("/password/change", {"current_password": "not-it-at-all", "new_password": "Kirin-Sakura-7788",
                                             "new_password_confirm": "Kirin-Sakura-7788"})
    assert wrong.status_code == 400 and "現在のパスワードが正しくありません" in wrong.content.decode()
    weak = client.post("/password/change", {"current_password": CUSTOMER_PASSWORD, "new_password": "12345",
                                            "new_password_confirm": "12345"})
    assert weak.status_code == 400
    done = client.post("/password/change", {"current_password": CUSTOMER_PASSWORD, "new_password": "Kirin-Sakura-7788",
                                            "new_password_confirm": "Kirin-Sakura-7788"})
    assert done["Location"] == "/dashboard"
    payer.refresh_from_db()
    assert not payer.must_change_password
    assert client.get("/dashboard").status_code == 200  # still logged in


def test_password_change_needs_login(client):
    assert client.get("/password/change")["Location"].startswith("/login")


# --- dashboard and history --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/dashboard", "/history", "/transfer"])
def test_customer_pages_send_anonymous_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", ["/dashboard", "/history", "/transfer"])
def test_customer_pages_refuse_staff(client, staff_user, path):
    client.force_login(staff_user)
    assert client.get(path).status_code == 403


def test_dashboard_shows_balance_chart_and_stale_note(web_client, payer):
    page = web_client(payer).get("/dashboard").content.decode()
    assert "¥10,000,000" in page and 'data-testid="balance-chart"' in page
    assert 'data-testid="stale-note"' in page  # never synced with core in this test


def test_dashboard_without_account_says_so(web_client, customer_user):
    page = web_client(customer_user).get("/dashboard").content.decode()
    assert "口座情報がまだ登録されていません" in page


def test_history_paginates(web_client, payer, post_entry, settings):
    from balance.models import AccountBalance

    settings.WEB_HISTORY_PAGE_SIZE = 2
    account = AccountBalance.objects.get(account_id=payer.primary_account_id)
    for amount in (100, 200, 300):
        post_entry(account, amount)
    client = web_client(payer)
    first = client.get("/history").content.decode()
    assert "1 / 2" in first and 'rel="next"' in first
    last = client.get("/history?page=2").content.decode()
    assert "2 / 2" in last and "¥10,000,000" in last
    assert client.get("/history?page=abc").status_code == 200


# --- transfers ----------------------------------------------------------------------------------------------

def test_transfer_input_refuses_bad_shape(web_client, payer):
    response = web_client(payer).post("/transfer", {"target_account_id": "12", "amount": "-5"})
    assert response.status_code == 400
    assert response.content.decode().count('class="field-error"') >= 2


def test_transfer_input_refuses_own_account_by_the_service_rule(web_client, payer):
    response = web_client(payer).post("/transfer", {"target_account_id": payer.primary_account_id, "amount": "10"})
    assert response.status_code == 400 and "ご自身の口座には振り込めません" in response.content.decode()


def test_transfer_input_refuses_amount_over_limit(web_client, payer, settings):
    settings.TRANSFER_MAX_AMOUNT = 1000
    response = web_client(payer).post("/transfer", {"target_account_id": PAYEE_ACCOUNT, "amount": "1001"})
    assert response.status_code == 400


def test_transfer_submit_twice_with_one_key_is_one_transfer(web_client, payer, payee, outbox_nudges):
    client = web_client(payer)
    form = _confirm(client)
    first = client.post("/transfer/submit", form)
    second = client.post("/transfer/submit", form)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Transfer.objects.count() == 1
    assert client.get(first["Location"]).status_code == 200


def test_transfer_submit_to_unknown_account_returns_to_input(web_client, payer, outbox_nudges):
    client = web_client(payer)
    form = _confirm(client, target="0019999999")
    response = client.post("/transfer/submit", form)
    assert response.status_code == 400 and "振込先口座が見つかりません" in response.content.decode()
    assert Transfer.objects.count() == 0


def test_transfer_submit_without_key_is_refused(web_client, payer, payee):
    response = web_client(payer).post("/transfer/submit", {"target_account_id": PAYEE_ACCOUNT, "amount": "10"})
    assert response.status_code == 400 and Transfer.objects.count() == 0


def test_transfer_submit_with_insufficient_balance_shows_rejected_status(web_client, payer, payee, outbox_nudges):
    client = web_client(payer)
    form = _confirm(client, amount="9999999")
    form_first = client.post("/transfer/submit", form)
    assert form_first.status_code == 303
    second = _confirm(client, amount="9999999")
    response = client.post("/transfer/submit", second, follow=True)
    page = response.content.decode()
    assert "口座残高が不足しています" in page and 'data-outcome="rejected"' in page


def test_transfer_status_is_private_to_the_payer(web_client, payer, payee, outbox_nudges):
    location = web_client(payer).post("/transfer/submit", _confirm(web_client(payer)))["Location"]
    other = web_client(payee)
    assert other.get(location).status_code == 404
    assert other.get(location + "/steps").status_code == 404
    assert web_client(payer).get("/transfers/not-an-id").status_code == 404


def test_transfer_steps_poll_until_terminal_then_286(web_client, payer, payee, mock_core, saga_drain):
    client = web_client(payer)
    location = client.post("/transfer/submit", _confirm(client))["Location"]
    polling = client.get(location + "/steps")
    assert polling.status_code == 200 and 'hx-trigger="every' in polling.content.decode()
    saga_drain()
    done = client.get(location + "/steps")
    assert done.status_code == 286
    body = done.content.decode()
    assert 'data-outcome="completed"' in body and "hx-trigger" not in body
    assert "reload-link" not in client.get(location).content.decode()


# --- account application --------------------------------------------------------------------------------

PERSONAL = {"full_name": "山田 花子", "kana": "ヤマダ ハナコ", "birthdate": "1990-04-01", "id_type": "passport",
            "id_number": "TK1234567", "account_type": "SAVINGS"}
CONTACT = {"email": "hanako@example.com", "phone_number": "090-1234-5678", "postal_code": "1000001",
           "address": "東京都千代田区千代田1-1"}


def test_apply_step1_shows_the_validators_messages_next_to_fields(client):
    response = client.post("/apply", {**PERSONAL, "kana": "yamada", "birthdate": "2999-01-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "全角カタカナ" in page and "未来の日付" in page and "data-error-summary" in page


def test_apply_step1_requires_fields(client):
    response = client.post("/apply", {})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()


def test_apply_back_keeps_what_was_typed(client):
    assert client.post("/apply", PERSONAL)["Location"] == "/apply/contact"
    response = client.post("/apply/contact", {**CONTACT, "email": "half-typed", "back": "1"})
    assert response["Location"] == "/apply"
    assert 'value="山田 花子"' in client.get("/apply").content.decode()
    assert 'value="half-typed"' in client.get("/apply/contact").content.decode()


def test_apply_review_without_a_draft_goes_back_to_step1(client):
    assert client.get("/apply/review")["Location"] == "/apply"
    assert client.get("/apply/done")["Location"] == "/apply"


def test_apply_submit_twice_files_one_application(client, outbox_nudges):
    client.post("/apply", PERSONAL)
    assert client.post("/apply/contact", CONTACT)["Location"] == "/apply/review"
    review = client.get("/apply/review")
    assert "100-0001" in review.content.decode()
    key = _key(review)
    assert client.post("/apply/review", {"idempotency_key": key, "accept_terms": "on"})["Location"] == "/apply/done"
    assert client.post("/apply/review", {"idempotency_key": key, "accept_terms": "on"})["Location"] == "/apply/done"
    assert Application.objects.count() == 1
    done = client.get("/apply/done").content.decode()
    assert Application.objects.get().transaction_id in done


def test_apply_submit_without_accepting_the_terms_files_nothing(client, outbox_nudges):
    # given a complete draft on the review page
    client.post("/apply", PERSONAL)
    client.post("/apply/contact", CONTACT)
    review = client.get("/apply/review")
    assert 'name="accept_terms"' in review.content.decode() and "/apply/terms" in review.content.decode()
    # when the applicant submits without ticking the terms checkbox
    response = client.post("/apply/review", {"idempotency_key": _key(review)})
    # then the page says why, next to the box and in the summary, and no application is filed
    assert response.status_code == 400
    page = response.content.decode()
    assert "お申し込みには利用規約への同意が必要です。" in page and "data-error-summary" in page
    assert 'aria-invalid="true"' in page
    assert Application.objects.count() == 0


def test_apply_records_the_accepted_terms_in_the_application_event(client, outbox_nudges):
    from accounts.forms import TERMS_VERSION
    from outbox.eventstore.models import Event

    client.post("/apply", PERSONAL)
    client.post("/apply/contact", CONTACT)
    key = _key(client.get("/apply/review"))
    client.post("/apply/review", {"idempotency_key": key, "accept_terms": "on"})
    application = Application.objects.get()
    created = Event.objects.get(aggregate_id=application.application_id, version=1)
    consent = created.data["termsConsent"]
    assert consent["accepted"] is True and consent["termsVersion"] == TERMS_VERSION
    assert consent["acceptedAt"] == created.data["createdAt"]


def test_terms_page_is_public_and_names_its_version(client):
    from accounts.forms import TERMS_VERSION

    response = client.get("/apply/terms")
    assert response.status_code == 200
    assert TERMS_VERSION in response.content.decode()


# --- staff ---------------------------------------------------------------------------------------------

def test_admin_index_shows_outbox_status_panel(client, staff_user):
    client.force_login(staff_user)
    page = client.get("/admin/").content.decode()
    assert 'data-testid="status-panel"' in page and "最も古い待ちの経過時間" in page


def test_fault_page_needs_staff(client, customer_user):
    assert client.get("/admin/core-faults/")["Location"].startswith("/admin/login/")
    client.force_login(customer_user)
    assert client.get("/admin/core-faults/")["Location"].startswith("/admin/login/")


def test_fault_page_is_absent_when_faults_disabled(client, staff_user, settings):
    settings.CORE_MOCK_FAULTS_ENABLED = False
    client.force_login(staff_user)
    assert client.get("/admin/core-faults/").status_code == 404


def test_fault_page_shows_and_changes_settings_over_http(client, staff_user, monkeypatch):
    calls = []

    def fake_control(method, path, body=None):
        calls.append((method, path, body))
        return 200, {"groups": {"all": {"down": method == "POST"}}}

    monkeypatch.setattr("config.core_faults_page._control", fake_control)
    client.force_login(staff_user)
    page = client.get("/admin/core-faults/").content.decode()
    assert "テスト用ツール" in page and "接続可" in page
    response = client.post("/admin/core-faults/", {"action": "set", "group": "all", "mode": "down",
                                                   "duration_s": "30"})
    assert response.status_code == 302
    assert ("POST", "/core/_faults", {"group": "all", "mode": "down", "duration_s": 30.0}) in calls
    client.post("/admin/core-faults/", {"action": "account", "account_id": "0017654321", "status": "FROZEN"})
    assert ("POST", "/core/_faults/accounts/0017654321", {"status": "FROZEN"}) in calls
    bad = client.post("/admin/core-faults/", {"action": "set", "group": "nope", "mode": "down"})
    assert bad.status_code == 200 and calls[-1][0] == "GET"


def test_fault_page_reports_an_unreachable_core(client, staff_user, settings):
    settings.CORE_BANKING_URL = "http://127.0.0.1:9"
    settings.WEB_CORE_CONTROL_TIMEOUT = 0.5
    client.force_login(staff_user)
    assert "接続不可" in client.get("/admin/core-faults/").content.decode()
