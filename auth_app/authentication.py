"""DRF authentication for the customer JWT routes (balance, transactions, transfer: api.md §1.5, §4.4).

Usage in a later app::

    from auth_app.authentication import CustomerJWTAuthentication
    from auth_app.permissions import IsCustomer

    class BalanceGetApi(APIView):
        authentication_classes = [CustomerJWTAuthentication]
        permission_classes = [IsCustomer]

`request.user` is then the `auth_app.User` (with `customer_id`, `primary_account_id`) and `request.auth`
the `TokenIdentity` (user, session, token). Every failure — no header, malformed, bad signature,
`alg: none`, wrong key, expired, revoked or expired session, missing or inactive user — ends as
401 `{"message":"Unauthorized"}` with CORS headers (config.api.exception_handler), so the original
frontend's "401 → log out" logic runs (api.md §1.7, §4.5).
"""
from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from auth_app.errors import AuthError
from auth_app.selectors import TokenIdentity, user_get_by_token


def raw_token_from_header(header: str) -> str:
    """The token of an Authorization header, with or without the `Bearer ` prefix (as the original authorizer)."""
    value = header.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value


class CustomerJWTAuthentication(authentication.BaseAuthentication):
    """Bearer JWT → `(user, TokenIdentity)`; session and user are checked on every request (one query)."""

    www_authenticate_realm = "api"

    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # the permission class answers 401 for a missing token
        raw_token = raw_token_from_header(header)
        if not raw_token:
            raise exceptions.AuthenticationFailed()
        try:
            identity: TokenIdentity = user_get_by_token(raw_token=raw_token)
        except AuthError as exc:
            raise exceptions.AuthenticationFailed() from exc
        return identity.user, identity

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'


# Staff routes: a Django staff session (CSRF enforced by DRF's SessionAuthentication) or a staff JWT.
STAFF_AUTHENTICATION_CLASSES = [CustomerJWTAuthentication, authentication.SessionAuthentication]
