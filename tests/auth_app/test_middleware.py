"""ApiKeyMiddleware (the original gateway's X-Api-Key check) and CORS around it (api.md §1.4, §1.6)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db
ORIGIN = "http://localhost:3000"
LOGIN_URL = "/v1/api/auth/login"


def _login_body():
    return {"loginId": "nobody", "password": "whatever-1"}


@pytest.mark.parametrize("key_name", ["customer", "admin", "auth"])
def test_any_configured_key_is_accepted_when_sent_on_any_route(api_client, api_keys, key_name):
    # when the login route gets the customer, admin or auth key
    response = api_client.post(LOGIN_URL, _login_body(), format="json", HTTP_X_API_KEY=getattr(api_keys, key_name))
    # then the request reaches the view (401 invalid credentials, not 403)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_API_KEY": ""}, {"HTTP_X_API_KEY": "wrong-key"},
                                     {"HTTP_X_API_KEY": "test-auth-key "}])
def test_api_route_is_403_forbidden_when_key_missing_or_unknown(api_client, api_keys, headers):
    response = api_client.post(LOGIN_URL, _login_body(), format="json", **headers)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_forbidden_answer_carries_cors_headers_when_called_from_the_spa(api_client, api_keys):
    # when
    response = api_client.get("/v1/api/auth/verify", HTTP_ORIGIN=ORIGIN, HTTP_X_API_KEY="wrong")
    # then the browser can read the 403
    assert response.status_code == 403
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_key_check_is_skipped_when_no_key_is_configured(api_client, settings):
    # given local development: no keys, the SPA sends an empty X-Api-Key
    settings.BANK_API_KEY_CUSTOMER = settings.BANK_API_KEY_ADMIN = settings.BANK_API_KEY_AUTH = ""
    response = api_client.post(LOGIN_URL, _login_body(), format="json", HTTP_X_API_KEY="")
    assert response.status_code == 401


def test_key_is_not_required_when_the_path_is_outside_v1(client, api_keys):
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/config.json").status_code == 200


def test_key_alone_is_not_a_credential_when_calling_a_jwt_route(api_client, api_keys):
    response = api_client.post("/v1/api/auth/logout", HTTP_X_API_KEY=api_keys.admin)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("path, method", [(LOGIN_URL, "POST"), ("/v1/api/auth/verify", "GET"),
                                          ("/v1/api/transfer", "POST"), ("/v1/api/balance", "GET")])
def test_preflight_is_2xx_with_allowances_when_sent_without_key_or_token(api_client, api_keys, path, method):
    # when the browser's preflight arrives (no key, no token)
    response = api_client.options(path, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
                                  HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,x-api-key,"
                                                                      "idempotency-key")
    # then
    assert 200 <= response.status_code < 300
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    allowed_headers = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"x-api-key", "authorization", "content-type", "idempotency-key"} <= allowed_headers
    allowed_methods = {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "OPTIONS"} <= allowed_methods


def test_preflight_from_an_unknown_origin_gets_no_allowance(api_client):
    response = api_client.options(LOGIN_URL, HTTP_ORIGIN="https://evil.example",
                                  HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in response


def test_any_origin_is_allowed_when_cors_allow_all_is_configured(api_client, settings):
    settings.CORS_ALLOW_ALL_ORIGINS = True
    response = api_client.post(LOGIN_URL, _login_body(), format="json", HTTP_ORIGIN="https://spa.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_undefined_api_path_is_403_missing_authentication_token_when_key_valid(api_client, api_keys):
    response = api_client.get("/v1/api/nothing-here", HTTP_X_API_KEY=api_keys.auth, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_trailing_slash_is_not_redirected_when_posting(api_client):
    # APPEND_SLASH stays off: the SPA never sends a trailing slash and a redirect would drop the POST body
    response = api_client.post(LOGIN_URL + "/", _login_body(), format="json")
    assert response.status_code == 403
