"""404 and 500 pages in the site's style (DEBUG off, as in the test settings); API paths keep JSON errors."""
import pytest
from django.test import RequestFactory, override_settings
from django.urls import get_resolver
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_unknown_page_is_the_sites_404_page_in_japanese(client):
    # when a customer mistypes an address
    response = client.get("/no-such-page")
    # then the site's page answers 404, with the header, a way home and the support contact
    assert response.status_code == 404
    html = response.content.decode()
    assert "ページが見つかりません" in html
    assert 'class="site-header"' in html
    assert "support@bank.example" in html
    assert "<title>" in html and "Not Found</h1>" not in html, "not Django's bare page"


def test_unknown_page_is_in_english_when_english_is_chosen(client):
    # given English chosen with the language switch
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    # when
    response = client.get("/no-such-page")
    # then
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_unknown_api_paths_keep_json_errors(client):
    # /v1/ keeps the original gateway's answer; /api/ (the schema's prefix) answers JSON, never HTML
    v1 = client.get("/v1/api/no-such-route")
    api = client.get("/api/no-such-route")
    assert (v1.status_code, v1.json()) == (403, {"message": "Missing Authentication Token"})
    assert (api.status_code, api.json()) == (404, {"message": "Not Found"})


def _handler500():
    resolver = get_resolver()
    return resolver.resolve_error_handler(500)


@pytest.mark.parametrize("language, text", [("ja", "システムエラー"), ("en", "System error")])
def test_server_error_page_is_the_sites_page_in_the_active_language(language, text):
    # given an error outside the API while the customer's language is active
    request = RequestFactory().get("/dashboard")
    # when the 500 handler answers
    with translation.override(language):
        response = _handler500()(request)
    # then it is the site's page, with the support contact
    assert response.status_code == 500
    html = response.content.decode()
    assert text in html
    assert "support@bank.example" in html
    assert 'href="/"' in html


def test_server_error_under_v1_stays_json():
    response = _handler500()(RequestFactory().get("/v1/api/balance"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")


@override_settings(ROOT_URLCONF="config.urls_core")
def test_core_mock_server_error_stays_json():
    response = get_resolver("config.urls_core").resolve_error_handler(500)(RequestFactory().get("/api/accounts"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
