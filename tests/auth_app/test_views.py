"""GET /config.json: the runtime configuration the original SPA loads (api.md §1.1)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db
KEYS = {"REACT_APP_BANKING_API", "REACT_APP_CUSTOMER_API_KEY", "REACT_APP_ADMIN_API_KEY", "REACT_APP_AUTH_API_KEY"}


def test_config_json_has_the_original_shape_with_this_servers_v1_url(client, api_keys, settings):
    # given
    settings.ALLOWED_HOSTS = ["bank.example"]
    # when
    response = client.get("/config.json", HTTP_HOST="bank.example:8000")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {"REACT_APP_BANKING_API": "http://bank.example:8000/v1/",
                               "REACT_APP_CUSTOMER_API_KEY": api_keys.customer,
                               "REACT_APP_ADMIN_API_KEY": api_keys.admin,
                               "REACT_APP_AUTH_API_KEY": api_keys.auth}


def test_config_json_uses_the_public_base_url_when_configured(client, settings):
    settings.PUBLIC_API_BASE_URL = "https://api.bank.example/v1"
    body = client.get("/config.json").json()
    assert body["REACT_APP_BANKING_API"] == "https://api.bank.example/v1/"
    assert set(body) == KEYS


def test_config_json_publishes_only_client_keys_when_secrets_are_configured(client, settings, api_keys):
    # the signing key, Django's secret and the core key never appear
    text = client.get("/config.json").content.decode()
    for secret in (settings.JWT_SIGNING_KEY, settings.SECRET_KEY, settings.CORE_BANKING_API_KEY):
        assert secret not in text
    assert set(client.get("/config.json").json()) == KEYS


def test_config_json_has_empty_keys_when_none_configured(client, settings):
    settings.BANK_API_KEY_CUSTOMER = settings.BANK_API_KEY_ADMIN = settings.BANK_API_KEY_AUTH = ""
    body = client.get("/config.json").json()
    assert body["REACT_APP_CUSTOMER_API_KEY"] == body["REACT_APP_ADMIN_API_KEY"] == \
        body["REACT_APP_AUTH_API_KEY"] == ""
