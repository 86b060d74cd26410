"""GET /v1/api/auth/verify: `{success, valid, user}`; family-A codes in the original's check order (api.md §4.2)."""
from __future__ import annotations

import pytest

from tests.auth_app.tokens_helpers import claims_of, expired, signed, tampered, unsigned_alg_none

pytestmark = pytest.mark.django_db
URL = "/v1/api/auth/verify"


def _verify(client, authorization: str | None, **extra):
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    return client.get(URL, **extra)


def _assert_code(response, code: str, message: str) -> None:
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (code, message)
    assert set(error) == {"code", "message", "timestamp"}


def test_verify_returns_valid_user_when_token_and_session_are_good(api_client, customer_user, login_token):
    # when
    response = _verify(api_client, "Bearer " + login_token(customer_user))
    # then
    assert response.status_code == 200
    assert response.json() == {"success": True, "valid": True,
                               "user": {"userId": "USER901", "email": "user901@example.com",
                                        "customerId": "CUST901", "primaryAccountId": "0019000001"}}


@pytest.mark.parametrize("authorization", [None, "", "bearer {token}", "{token}", "Token {token}", "Bearer{token}"])
def test_verify_is_missing_token_when_header_absent_or_prefix_not_exactly_bearer(api_client, customer_user,
                                                                                 login_token, authorization):
    # given
    if authorization is not None:
        authorization = authorization.format(token=login_token(customer_user))
    # then
    _assert_code(_verify(api_client, authorization), "MISSING_TOKEN", "Authorization header is required")


@pytest.mark.parametrize("make_token", [
    lambda token: expired(token),
    lambda token: tampered(token, customerId="CUST902"),
    lambda token: unsigned_alg_none(claims_of(token)),
    lambda token: signed(claims_of(token), key="wrong-key-0123456789abcdef0123456789abcdef"),
    lambda token: "not-a-jwt",
    lambda token: "",
], ids=["expired", "tampered", "alg-none", "wrong-key", "garbage", "empty"])
def test_verify_is_invalid_token_when_token_cannot_be_trusted(api_client, customer_user, login_token, make_token):
    token = make_token(login_token(customer_user))
    _assert_code(_verify(api_client, "Bearer " + token), "INVALID_TOKEN", "Invalid or expired token")


def test_verify_is_user_not_found_when_token_names_an_unknown_user(api_client, customer_user, login_token):
    token = signed({**claims_of(login_token(customer_user)), "userId": "USER-GONE", "sessionId": "a" * 64})
    _assert_code(_verify(api_client, "Bearer " + token), "USER_NOT_FOUND", "User not found")


def test_verify_is_account_disabled_when_user_inactive(api_client, customer_user, login_token):
    token = login_token(customer_user)
    customer_user.is_active = False
    customer_user.save()
    _assert_code(_verify(api_client, "Bearer " + token), "ACCOUNT_DISABLED", "Account is disabled")


def test_verify_is_session_expired_when_the_tokens_own_session_ended_though_another_is_active(
        api_client, customer_user, login_token):
    # given two logins of the same user, the first one logged out
    first, second = login_token(customer_user), login_token(customer_user)
    api_client.post("/v1/api/auth/logout", HTTP_AUTHORIZATION="Bearer " + first)
    # when / then: the original accepted any active session of the user; we check the token's own
    _assert_code(_verify(api_client, "Bearer " + first), "SESSION_EXPIRED", "No active session found")
    assert _verify(api_client, "Bearer " + second).status_code == 200


def test_verify_error_carries_cors_headers_when_called_from_the_spa(api_client):
    response = _verify(api_client, None, HTTP_ORIGIN="http://127.0.0.1:3000")
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
