"""The staff admin is the bank's: its header and title, and model names in Japanese (default) or English."""
import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for_superuser(client, make_user):
    superuser = make_user("boss901", password="boss-pass-0123456789", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def test_admin_index_is_japanese_by_default(admin_client_for_superuser):
    # when a staff member opens the admin without choosing a language
    html = admin_client_for_superuser.get("/admin/").content.decode()
    # then header, title and the sidebar's model names are the bank's, in Japanese
    assert "サンプル銀行 スタッフ管理画面" in html
    assert "<title>業務メニュー | サンプル銀行 スタッフ</title>" in html
    for japanese in ("Outbox メッセージ", "口座残高", "口座開設の申込", "振込への運用操作", "イベントと outbox",
                     "残高と明細"):
        assert japanese in html, japanese
    assert "ログイン試行" in html, "django-axes' lockout tables too (it ships no Japanese catalog)"
    for english in ("Outbox messages", "Account balances", "Transfer operator actions", "Django administration",
                    "Access attempts"):
        assert english not in html, english


def test_admin_index_is_english_when_english_is_chosen(admin_client_for_superuser):
    # given English chosen with the site's language switch
    admin_client_for_superuser.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    # when
    html = admin_client_for_superuser.get("/admin/").content.decode()
    # then
    assert "Sample Bank staff administration" in html
    for english in ("Outbox messages", "Account balances", "Events and outbox", "Balances and postings"):
        assert english in html, english


def test_admin_list_columns_and_filters_are_translated(admin_client_for_superuser):
    html = admin_client_for_superuser.get("/admin/outbox/outboxmessage/").content.decode()
    for japanese in ("種類", "キュー", "経過時間", "要対応"):  # the filters (an empty list shows no columns)
        assert japanese in html, japanese
    html = admin_client_for_superuser.get("/admin/transfers/transfer/").content.decode()
    assert "5 分より前" in html and "older than 5 minutes" not in html
