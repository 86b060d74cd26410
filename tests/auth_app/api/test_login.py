"""POST /v1/api/auth/login: the original's success body and family-A failures (api.md §4.1)."""
from __future__ import annotations

import datetime as dt
import logging
import re

import jwt
import pytest
from django.conf import settings

from auth_app.models import LoginSession
from tests.fixtures.auth import CUSTOMER_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN_URL = "/v1/api/auth/login"
ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _login(client, body, **extra):
    return client.post(LOGIN_URL, body, format="json", **extra)


def _assert_auth_error(response, status: int, code: str, message: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "timestamp"}
    assert body["error"]["code"] == code
    assert body["error"]["message"] == message
    assert ISO_MS_Z.match(body["error"]["timestamp"])


def test_login_returns_token_user_and_expiry_when_credentials_are_valid(api_client, customer_user):
    # given
    before = dt.datetime.now(dt.UTC)
    # when
    response = _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD})
    # then the body is exactly the original's (plus mustChangePassword)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "user", "expiresAt", "mustChangePassword"}
    assert body["user"] == {"userId": "USER901", "loginId": "user901", "email": "user901@example.com",
                            "customerId": "CUST901", "primaryAccountId": "0019000001"}
    assert body["mustChangePassword"] is False
    assert isinstance(body["token"], str)
    # expiresAt: a future ISO time with milliseconds and Z, login time + 15 minutes
    assert ISO_MS_Z.match(body["expiresAt"])
    expires_at = dt.datetime.strptime(body["expiresAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert dt.timedelta(minutes=14, seconds=58) < expires_at - before < dt.timedelta(minutes=15, seconds=5)


def test_login_token_carries_the_original_claims_when_signed_with_the_dedicated_key(api_client, customer_user):
    # when
    token = _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD}).json()["token"]
    # then it is an HS256 JWT signed with JWT_SIGNING_KEY (not SECRET_KEY), lifetime 900 s
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])
    assert {"userId", "sessionId", "email", "customerId", "primaryAccountId", "iat", "exp",
            "token_type", "jti"} <= set(claims)
    assert claims["userId"] == "USER901"
    assert claims["customerId"] == "CUST901"
    assert claims["primaryAccountId"] == "0019000001"
    assert claims["exp"] - claims["iat"] == 900
    assert re.fullmatch(r"[0-9a-f]{64}", claims["sessionId"])


def test_login_creates_an_active_session_with_client_details_when_successful(api_client, customer_user):
    # when
    _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD},
           REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="pytest-agent")
    # then
    session = LoginSession.objects.get(user=customer_user)
    assert session.is_active
    assert session.ip_address == "198.51.100.7"
    assert session.user_agent == "pytest-agent"
    customer_user.refresh_from_db()
    assert customer_user.last_login is not None


def test_login_reports_must_change_password_when_the_login_was_issued_with_a_temporary_password(
        api_client, make_user):
    # given
    make_user("user-123456", customer_id="CUST-123456", primary_account_id="0013000001",
              email="new@example.com", must_change_password=True)
    # when
    body = _login(api_client, {"loginId": "user-123456", "password": CUSTOMER_PASSWORD}).json()
    # then
    assert body["mustChangePassword"] is True
    assert body["user"]["loginId"] == "user-123456"


def test_login_is_400_missing_body_when_body_is_empty(api_client):
    response = api_client.post(LOGIN_URL, data="", content_type="application/json")
    _assert_auth_error(response, 400, "MISSING_BODY", "Request body is required")


@pytest.mark.parametrize("body", [{}, {"loginId": "user901"}, {"password": "x" * 8}, {"loginId": "", "password": "p"},
                                  {"loginId": 12345, "password": "password123"}, [], "text"])
def test_login_is_400_missing_credentials_when_a_field_is_missing_or_empty(api_client, body):
    _assert_auth_error(_login(api_client, body), 400, "MISSING_CREDENTIALS", "Login ID and password are required")


def test_login_is_400_malformed_json_when_body_is_not_json(api_client):
    # when
    response = api_client.post(LOGIN_URL, data="{not json", content_type="application/json")
    # then (the original answered 500 here; a clear 400 in the same family is better)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


@pytest.mark.parametrize("login_id", ["user901", "nobody"])
def test_login_is_401_invalid_credentials_alike_when_id_unknown_or_password_wrong(api_client, customer_user, login_id):
    response = _login(api_client, {"loginId": login_id, "password": "wrong-password"})
    _assert_auth_error(response, 401, "INVALID_CREDENTIALS", "Invalid login ID or password")


@pytest.mark.parametrize("login_id, password", [("user\x00901", CUSTOMER_PASSWORD), ("u" * 151, CUSTOMER_PASSWORD),
                                                ("user901", "p" * 1025)])
def test_login_is_401_invalid_credentials_when_values_cannot_match_a_login(api_client, customer_user, login_id,
                                                                          password):
    response = _login(api_client, {"loginId": login_id, "password": password})
    _assert_auth_error(response, 401, "INVALID_CREDENTIALS", "Invalid login ID or password")


def test_login_is_401_account_disabled_when_user_inactive_and_password_right(api_client, customer_user):
    # given
    customer_user.is_active = False
    customer_user.save()
    # when
    response = _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD})
    # then
    _assert_auth_error(response, 401, "ACCOUNT_DISABLED", "Account is disabled")


def test_login_is_401_invalid_credentials_when_user_inactive_and_password_wrong(api_client, customer_user):
    # given an inactive user: a wrong password must not reveal the account state
    customer_user.is_active = False
    customer_user.save()
    # when
    response = _login(api_client, {"loginId": "user901", "password": "wrong-password"})
    # then
    _assert_auth_error(response, 401, "INVALID_CREDENTIALS", "Invalid login ID or password")


def test_login_is_500_internal_error_with_request_id_when_an_unexpected_failure_happens(
        api_client, customer_user, monkeypatch, caplog):
    # given a failing session store
    def broken(**kwargs):
        raise RuntimeError("database exploded at /srv/secret/path")

    monkeypatch.setattr("auth_app.api.views.login_authenticate", broken)
    # when
    with caplog.at_level(logging.ERROR, logger="bank.api"):
        response = _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD})
    # then family A, no internals, and the logged request id is in the body
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "INTERNAL_ERROR"
    assert error["message"] == "Internal server error"
    assert "exploded" not in response.content.decode()
    assert error["requestId"] in caplog.text


def test_login_is_429_when_the_login_rate_is_exceeded(api_client, customer_user, settings):
    # given a tiny rate
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "2/min", "write": "100/min"}}
    for _ in range(2):
        _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD})
    # when
    response = _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD})
    # then
    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"}
    assert int(response["Retry-After"]) > 0


def test_login_logs_no_password_hash_or_token_when_logging_in(api_client, customer_user, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    # when a failed and a successful login happen
    _login(api_client, {"loginId": "user901", "password": "wrong-password-xyz"})
    token = _login(api_client, {"loginId": "user901", "password": CUSTOMER_PASSWORD}).json()["token"]
    # then no secret reaches the logs
    customer_user.refresh_from_db()
    text = caplog.text
    assert caplog.records, "something was logged"
    for secret in (CUSTOMER_PASSWORD, "wrong-password-xyz", customer_user.password, token, token.split(".")[2]):
        assert secret not in text
    assert "login succeeded user_id=USER901" in text


def test_login_stores_no_password_in_lockout_records_when_login_fails(api_client, customer_user):
    # given
    from axes.models import AccessAttempt

    # when
    _login(api_client, {"loginId": "user901", "password": "wrong-password-xyz"})
    # then
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "user901"
    assert "wrong-password-xyz" not in f"{attempt.get_data} {attempt.post_data}"


def test_demo_users_can_log_in_when_seeded(api_client):
    # given
    from auth_app.services import user_seed_demo

    user_seed_demo(staff_secret="staff-secret-for-test")
    # when
    response = _login(api_client, {"loginId": "user002", "password": "password123"})
    # then
    assert response.status_code == 200
    assert response.json()["user"] == {"userId": "USER002", "loginId": "user002", "email": "user002@example.com",
                                       "customerId": "CUST002", "primaryAccountId": "0017654321"}
