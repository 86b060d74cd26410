"""Reads of logins and sessions."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from auth_app.errors import AccountDisabled, InvalidToken, SessionExpired, UserNotFound
from auth_app.models import LoginSession
from auth_app.tokens import BankAccessToken, TokenError, token_decode


@dataclass(frozen=True)
class TokenIdentity:
    """Who a valid token speaks for: the user, the session it was issued with, the decoded token."""

    user: object
    session: LoginSession
    token: BankAccessToken


def user_get_by_token(*, raw_token: str) -> TokenIdentity:
    """Resolve a raw JWT to its user, checking in the original's order (api.md §4.2):

    signature/expiry (`InvalidToken`) → user exists (`UserNotFound`) → user active (`AccountDisabled`) →
    the token's OWN session is active and unexpired (`SessionExpired`). The success path is one indexed
    query (session by unique `session_id`, joined to its user); failures may look the user up once more
    to name the reason.
    """
    try:
        token = token_decode(raw_token)
    except TokenError as exc:
        raise InvalidToken() from exc

    session = (LoginSession.objects.select_related("user")
               .filter(session_id=token.session_id).first())
    if session is None or session.user.public_id != token.user_public_id:
        user = get_user_model().objects.filter(public_id=token.user_public_id).first()
        if user is None:
            raise UserNotFound()
        if not user.is_active:
            raise AccountDisabled()
        raise SessionExpired()
    user = session.user
    if not user.is_active:
        raise AccountDisabled()
    if not session.is_active or session.expires_at <= timezone.now():
        raise SessionExpired()
    return TokenIdentity(user=user, session=session, token=token)
