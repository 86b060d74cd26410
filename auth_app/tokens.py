"""The customer JWT (api.md §4.4), built on djangorestframework-simplejwt.

HS256 with the dedicated `JWT_SIGNING_KEY`; lifetime `JWT_ACCESS_TOKEN_MINUTES` (15 as in the original).
Claims: the original's `userId, sessionId, email, customerId, primaryAccountId, iat, exp` plus simplejwt's
`token_type` and `jti`. simplejwt's TokenBackend pins the algorithm, so `alg: none` and other algorithms
are refused; a token is only honoured while its server-side session is active (see selectors).
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import datetime_from_epoch

if TYPE_CHECKING:
    from auth_app.models import LoginSession

SESSION_ID_CLAIM = "sessionId"

__all__ = ["BankAccessToken", "TokenError", "token_issue_for_session", "token_decode"]


class BankAccessToken(AccessToken):
    """simplejwt's access token with the original's claim names (user id claim = `userId`)."""

    def verify(self) -> None:
        super().verify()
        if not isinstance(self.payload.get(SESSION_ID_CLAIM), str):
            raise TokenError("Token has no session")
        if not isinstance(self.payload.get(api_settings.USER_ID_CLAIM), str):
            raise TokenError("Token has no user")

    @property
    def session_id(self) -> str:
        return self.payload[SESSION_ID_CLAIM]

    @property
    def user_public_id(self) -> str:
        return self.payload[api_settings.USER_ID_CLAIM]

    @property
    def expires_at(self) -> dt.datetime:
        return datetime_from_epoch(self.payload["exp"])


def token_issue_for_session(*, session: LoginSession) -> BankAccessToken:
    """A signed token for a fresh login session; `exp` equals the session's expiry."""
    user = session.user
    token = BankAccessToken.for_user(user)
    token.set_iat(at_time=session.created_at)
    token.set_exp(from_time=session.expires_at, lifetime=dt.timedelta(0))
    token[SESSION_ID_CLAIM] = session.session_id
    token["email"] = user.email
    token["customerId"] = user.customer_id or ""
    token["primaryAccountId"] = user.primary_account_id or ""
    return token


def token_decode(raw_token: str) -> BankAccessToken:
    """Check signature, algorithm, expiry and the required claims; raises `TokenError` otherwise."""
    return BankAccessToken(raw_token)
