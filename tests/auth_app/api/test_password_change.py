"""POST /v1/api/auth/password (new): change with the current password; clears the first-login flag."""
from __future__ import annotations

import pytest

from auth_app.models import LoginSession
from tests.fixtures.auth import CUSTOMER_PASSWORD

pytestmark = pytest.mark.django_db
URL = "/v1/api/auth/password"
NEW_PASSWORD = "a-much-better-passphrase-42"


@pytest.fixture
def first_login_user(make_user):
    return make_user("user-777777", customer_id="CUST-777777", primary_account_id="0017777777",
                     email="new777@example.com", must_change_password=True)


def _change(client, token, body):
    return client.post(URL, body, format="json", HTTP_AUTHORIZATION="Bearer " + token)


def test_password_change_clears_the_flag_and_ends_other_sessions_when_current_password_right(
        api_client, first_login_user, login_token):
    # given two sessions
    token, other = login_token(first_login_user), login_token(first_login_user)
    # when
    response = _change(api_client, token, {"currentPassword": CUSTOMER_PASSWORD, "newPassword": NEW_PASSWORD})
    # then
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Password changed", "mustChangePassword": False}
    first_login_user.refresh_from_db()
    assert first_login_user.check_password(NEW_PASSWORD)
    assert not first_login_user.must_change_password
    assert api_client.get("/v1/api/auth/verify", HTTP_AUTHORIZATION="Bearer " + token).status_code == 200
    assert api_client.get("/v1/api/auth/verify", HTTP_AUTHORIZATION="Bearer " + other).status_code == 401
    # and the next login reports no forced change
    login = api_client.post("/v1/api/auth/login", {"loginId": "user-777777", "password": NEW_PASSWORD}, format="json")
    assert login.json()["mustChangePassword"] is False


def test_password_change_is_400_when_current_password_wrong(api_client, first_login_user, login_token):
    response = _change(api_client, login_token(first_login_user),
                       {"currentPassword": "wrong-one", "newPassword": NEW_PASSWORD})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_CURRENT_PASSWORD"
    first_login_user.refresh_from_db()
    assert first_login_user.check_password(CUSTOMER_PASSWORD)


@pytest.mark.parametrize("new_password", ["short", "12345678901234", "password123", CUSTOMER_PASSWORD])
def test_password_change_is_400_password_rejected_when_new_password_breaks_the_rules(
        api_client, first_login_user, login_token, new_password):
    response = _change(api_client, login_token(first_login_user),
                       {"currentPassword": CUSTOMER_PASSWORD, "newPassword": new_password})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PASSWORD_REJECTED"
    assert error["reasons"]


@pytest.mark.parametrize("body", [{}, {"currentPassword": CUSTOMER_PASSWORD}, {"newPassword": NEW_PASSWORD}])
def test_password_change_is_400_missing_fields_when_a_field_is_missing(api_client, first_login_user, login_token,
                                                                      body):
    response = _change(api_client, login_token(first_login_user), body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MISSING_FIELDS"


def test_password_change_is_locked_when_current_password_guessed_too_often(api_client, first_login_user,
                                                                          login_token):
    # given a stolen token used to guess the current password
    token = login_token(first_login_user)
    for _ in range(4):
        _change(api_client, token, {"currentPassword": "guess", "newPassword": NEW_PASSWORD})
    # when
    response = _change(api_client, token, {"currentPassword": "guess", "newPassword": NEW_PASSWORD})
    # then the login id is locked like after failed logins
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "ACCOUNT_LOCKED"


def test_password_change_is_401_when_no_token(api_client):
    response = api_client.post(URL, {"currentPassword": "a", "newPassword": "b"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert LoginSession.objects.count() == 0
