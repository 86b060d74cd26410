"""CustomerJWTAuthentication + IsCustomer on a JWT route: every token failure is 401 {"message":"Unauthorized"}."""
from __future__ import annotations

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from auth_app.authentication import CustomerJWTAuthentication
from auth_app.permissions import IsCustomer
from config.api import QUERY
from config.urls import urlpatterns as project_urlpatterns
from tests.auth_app.tokens_helpers import claims_of, expired, signed, tampered, unsigned_alg_none


class ProtectedTestApi(APIView):
    """A stand-in for balance/transactions/transfer."""

    error_family = QUERY
    authentication_classes = [CustomerJWTAuthentication]
    permission_classes = [IsCustomer]

    def get(self, request):
        return Response({"customerId": request.user.customer_id, "sessionId": request.auth.session.session_id})


urlpatterns = [path("v1/test/protected", ProtectedTestApi.as_view()), *project_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.auth_app.test_authentication")]
URL = "/v1/test/protected"
UNAUTHORIZED = {"message": "Unauthorized"}


def _get(client, authorization: str | None, **extra):
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    return client.get(URL, **extra)


def _assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("prefix", ["Bearer ", ""])
def test_jwt_route_accepts_the_token_when_sent_with_or_without_bearer_prefix(api_client, customer_user,
                                                                           login_token, prefix):
    # given
    token = login_token(customer_user)
    # when
    response = _get(api_client, prefix + token)
    # then
    assert response.status_code == 200
    assert response.json() == {"customerId": "CUST901", "sessionId": claims_of(token)["sessionId"]}


def test_jwt_route_is_401_when_no_authorization_header(api_client):
    _assert_unauthorized(_get(api_client, None))


@pytest.mark.parametrize("authorization", ["Bearer ", "Bearer not.a.jwt", "garbage", "Basic dXNlcjpwYXNz"])
def test_jwt_route_is_401_when_token_is_malformed(api_client, authorization):
    _assert_unauthorized(_get(api_client, authorization))


def test_jwt_route_is_401_when_token_expired(api_client, customer_user, login_token):
    _assert_unauthorized(_get(api_client, "Bearer " + expired(login_token(customer_user))))


def test_jwt_route_is_401_when_payload_tampered(api_client, customer_user, other_customer_user, login_token):
    # given user901's token rewritten to claim user902's customer
    token = tampered(login_token(customer_user), userId="USER902", customerId="CUST902")
    _assert_unauthorized(_get(api_client, "Bearer " + token))


def test_jwt_route_is_401_when_alg_is_none(api_client, customer_user, login_token):
    _assert_unauthorized(_get(api_client, "Bearer " + unsigned_alg_none(claims_of(login_token(customer_user)))))


@pytest.mark.parametrize("key", ["another-key-0123456789abcdef0123456789abcdef", "SECRET_KEY"])
def test_jwt_route_is_401_when_signed_with_a_wrong_key(api_client, customer_user, login_token, settings, key):
    # given a token signed with another key (including Django's SECRET_KEY, simplejwt's default)
    key = settings.SECRET_KEY if key == "SECRET_KEY" else key
    token = signed(claims_of(login_token(customer_user)), key=key)
    _assert_unauthorized(_get(api_client, "Bearer " + token))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_jwt_route_is_401_when_signed_with_another_algorithm(api_client, customer_user, login_token, settings):
    token = signed(claims_of(login_token(customer_user)), key=settings.JWT_SIGNING_KEY, algorithm="HS512")
    _assert_unauthorized(_get(api_client, "Bearer " + token))


def test_jwt_route_is_401_when_session_revoked_by_logout(api_client, customer_user, login_token):
    # given a working token
    token = login_token(customer_user)
    assert _get(api_client, "Bearer " + token).status_code == 200
    # when the user logs out
    assert api_client.post("/v1/api/auth/logout", HTTP_AUTHORIZATION="Bearer " + token).status_code == 200
    # then the same token is dead at once
    _assert_unauthorized(_get(api_client, "Bearer " + token))


def test_jwt_route_is_401_when_session_expired_server_side(api_client, customer_user, login_token):
    # given
    from django.utils import timezone

    from auth_app.models import LoginSession

    token = login_token(customer_user)
    LoginSession.objects.update(expires_at=timezone.now())
    _assert_unauthorized(_get(api_client, "Bearer " + token))


def test_jwt_route_is_401_when_user_deactivated(api_client, customer_user, login_token):
    token = login_token(customer_user)
    customer_user.is_active = False
    customer_user.save()
    _assert_unauthorized(_get(api_client, "Bearer " + token))


def test_jwt_route_is_401_when_signed_claims_name_an_unknown_session(api_client, customer_user, login_token):
    token = signed({**claims_of(login_token(customer_user)), "sessionId": "f" * 64})
    _assert_unauthorized(_get(api_client, "Bearer " + token))


def test_jwt_route_is_403_when_the_token_belongs_to_staff_without_customer(api_client, staff_user, login_token):
    # given a valid staff token (authenticated, but not a customer)
    response = _get(api_client, "Bearer " + login_token(staff_user))
    # then
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_jwt_route_uses_one_query_when_the_token_is_valid(api_client, customer_user, login_token,
                                                          django_assert_num_queries):
    token = login_token(customer_user)
    with django_assert_num_queries(1):
        assert _get(api_client, "Bearer " + token).status_code == 200


def test_jwt_route_401_carries_cors_headers_when_called_from_the_spa(api_client):
    response = _get(api_client, "Bearer broken", HTTP_ORIGIN="http://localhost:3000")
    _assert_unauthorized(response)
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
