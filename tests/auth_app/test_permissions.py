"""IsCustomer refuses a login that must still change its temporary password (flows.md R33)."""
from __future__ import annotations

import pytest

from tests.auth_app.test_authentication import URL

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.auth_app.test_authentication")]

PASSWORD_CHANGE_REQUIRED = {"message": "Password change required",
                            "error": {"code": "PASSWORD_CHANGE_REQUIRED", "message": "パスワードの変更が必要です"}}


def test_customer_route_is_refused_when_the_password_must_be_changed(client, customer_user, login_token):
    # given
    customer_user.must_change_password = True
    customer_user.save()
    token = login_token(customer_user)

    # when
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")

    # then
    assert response.status_code == 403
    assert response.json() == PASSWORD_CHANGE_REQUIRED


def test_verify_and_password_change_keep_working_when_the_password_must_be_changed(client, customer_user,
                                                                                    login_token):
    # given
    from tests.fixtures.auth import CUSTOMER_PASSWORD

    customer_user.must_change_password = True
    customer_user.save()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {login_token(customer_user)}"}

    # when
    verify = client.get("/v1/api/auth/verify", **auth)
    change = client.post("/v1/api/auth/password", {"currentPassword": CUSTOMER_PASSWORD,
                                                   "newPassword": "another-Horse-Staple-9"},
                         content_type="application/json", **auth)
    after = client.get(URL, **auth)

    # then
    assert verify.status_code == 200 and verify.json()["valid"] is True
    assert change.status_code == 200 and change.json()["mustChangePassword"] is False
    assert after.status_code == 200


def test_customer_route_is_unauthorized_when_no_token_even_if_password_must_change(client):
    # when
    response = client.get(URL)

    # then
    assert response.status_code == 401
