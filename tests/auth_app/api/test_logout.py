"""POST /v1/api/auth/logout (new): deactivates the token's session; the token is refused at once."""
from __future__ import annotations

import pytest

from auth_app.models import LoginSession

pytestmark = pytest.mark.django_db
URL = "/v1/api/auth/logout"


def test_logout_ends_only_the_tokens_session_when_called_with_a_valid_token(api_client, customer_user, login_token):
    # given two sessions
    token, other = login_token(customer_user), login_token(customer_user)
    # when
    response = api_client.post(URL, HTTP_AUTHORIZATION="Bearer " + token)
    # then
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Logged out"}
    assert LoginSession.objects.filter(user=customer_user, is_active=True).count() == 1
    assert api_client.get("/v1/api/auth/verify", HTTP_AUTHORIZATION="Bearer " + token).status_code == 401
    assert api_client.get("/v1/api/auth/verify", HTTP_AUTHORIZATION="Bearer " + other).status_code == 200


def test_logout_is_401_when_token_already_revoked(api_client, customer_user, login_token):
    token = login_token(customer_user)
    api_client.post(URL, HTTP_AUTHORIZATION="Bearer " + token)
    response = api_client.post(URL, HTTP_AUTHORIZATION="Bearer " + token)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_logout_is_401_when_no_token(api_client):
    response = api_client.post(URL)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
