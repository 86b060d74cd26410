"""POST /v1/api/users/register: kept, but only bank staff with auth_app.add_user may create a login."""
from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db
URL = "/v1/api/users/register"
BODY = {"customerId": "CUST-482913", "accountId": "0013381234", "email": "hanako@example.com",
        "temporaryPassword": "Tmp0rary-pass-2913"}


def _user_count() -> int:
    return get_user_model().objects.count()


def _assert_forbidden(response) -> None:
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "REGISTRATION_FORBIDDEN"
    assert set(error) == {"code", "message", "timestamp"}


def test_register_is_403_when_called_anonymously_with_only_an_api_key(api_client, api_keys):
    # given the original's caller: the public customer key, no credentials
    before = _user_count()
    # when
    response = api_client.post(URL, BODY, format="json", HTTP_X_API_KEY=api_keys.customer)
    # then nothing is created
    _assert_forbidden(response)
    assert _user_count() == before


def test_register_is_403_when_a_customer_tries_to_bind_an_account_they_do_not_own(api_client, customer_user,
                                                                                 login_token):
    # given a logged-in customer trying to bind someone else's account to a login of their choice
    before = _user_count()
    body = {**BODY, "accountId": "0017654321", "loginId": "mine"}
    # when
    response = api_client.post(URL, body, format="json", HTTP_AUTHORIZATION="Bearer " + login_token(customer_user))
    # then
    _assert_forbidden(response)
    assert _user_count() == before


def test_register_is_403_when_staff_lacks_the_add_user_permission(api_client, make_user, login_token):
    clerk = make_user("clerk", password="clerk-password-123", is_staff=True)
    response = api_client.post(URL, BODY, format="json",
                               HTTP_AUTHORIZATION="Bearer " + login_token(clerk, password="clerk-password-123"))
    _assert_forbidden(response)


def test_register_is_403_before_reading_the_body_when_caller_is_anonymous(api_client):
    # an empty body still answers 403: the route cannot be used to probe validation or existing ids
    _assert_forbidden(api_client.post(URL, data="", content_type="application/json"))


def test_register_creates_a_login_that_must_change_password_when_staff_calls_it(api_client, staff_user,
                                                                               login_token):
    # when
    response = api_client.post(URL, BODY, format="json", HTTP_AUTHORIZATION="Bearer " + login_token(staff_user))
    # then the original's 201 body
    assert response.status_code == 201
    body = response.json()
    assert body == {"success": True, "userId": body["userId"], "loginId": "user-482913",
                    "email": "hanako@example.com", "customerId": "CUST-482913",
                    "primaryAccountId": "0013381234", "message": "User registered successfully"}
    assert uuid.UUID(body["userId"]).version == 4
    user = get_user_model().objects.get(username="user-482913")
    assert user.must_change_password
    assert user.check_password(BODY["temporaryPassword"])
    assert BODY["temporaryPassword"] not in user.password
    assert "temporaryPassword" not in response.content.decode()


def test_register_works_with_a_staff_session_when_the_csrf_token_is_sent(staff_user):
    # given a staff member logged into the Django session with CSRF checks on
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    # when no CSRF token is sent
    refused = client.post(URL, BODY, content_type="application/json")
    # then the session alone is not enough
    assert refused.status_code == 403
    assert refused.json() == {"message": "Forbidden"}
    # when the CSRF token is sent
    token = "Csrf" * 8  # a 32-character CSRF secret, set as cookie and echoed in the header
    client.cookies["csrftoken"] = token
    accepted = client.post(URL, BODY, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


@pytest.mark.parametrize("existing, code", [({"username": "user-482913"}, "LOGIN_ID_EXISTS"),
                                            ({"username": "other", "customer_id": "CUST-482913"}, "CUSTOMER_EXISTS")])
def test_register_is_409_when_login_id_or_customer_already_registered(api_client, staff_user, login_token,
                                                                     make_user, existing, code):
    make_user(existing.pop("username"), **existing)
    response = api_client.post(URL, BODY, format="json", HTTP_AUTHORIZATION="Bearer " + login_token(staff_user))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("body, code", [({**BODY, "email": ""}, "MISSING_FIELDS"),
                                        ({k: v for k, v in BODY.items() if k != "accountId"}, "MISSING_FIELDS"),
                                        ({**BODY, "accountId": "12"}, "VALIDATION_ERROR"),
                                        ({**BODY, "temporaryPassword": "12345678901"}, "PASSWORD_REJECTED")])
def test_register_is_400_when_staff_sends_incomplete_or_invalid_fields(api_client, staff_user, login_token,
                                                                      body, code):
    before = _user_count()
    response = api_client.post(URL, body, format="json", HTTP_AUTHORIZATION="Bearer " + login_token(staff_user))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert _user_count() == before
