"""Reads of logins and sessions."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils import timezone

from auth_app.errors import AccountDisabled, InvalidToken, SessionExpired, UserNotFound
from auth_app.models import LoginSession
from auth_app.tokens import BankAccessToken, TokenError, token_decode
from config.rows import model_columns, model_from_row


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

    session = _session_with_user(token.session_id)
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


@functools.cache
def _session_with_user_sql() -> str:
    user_model = get_user_model()
    alias = router.db_for_read(LoginSession)
    quote = connections[alias].ops.quote_name
    columns = [*model_columns(LoginSession, alias=alias, table_alias="s"),
               *model_columns(user_model, alias=alias, table_alias="u")]
    return (f"SELECT {', '.join(columns)} "
            f"FROM {quote(LoginSession._meta.db_table)} s JOIN {quote(user_model._meta.db_table)} u "
            f"ON u.{quote(user_model._meta.pk.column)} = s.{quote(LoginSession._meta.get_field('user').column)} "
            f"WHERE s.{quote('session_id')} = %s")


def _session_with_user(session_id: str) -> LoginSession | None:
    """The session named `session_id` with its user loaded, in one join (what select_related would send),
    written out once: the ORM would compile it again on every request of every JWT route."""
    alias = router.db_for_read(LoginSession)
    with connections[alias].cursor() as cursor:
        cursor.execute(_session_with_user_sql(), [session_id])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(LoginSession._meta.concrete_fields)
    session = model_from_row(LoginSession, alias=alias, values=row[:width])
    session.user = model_from_row(get_user_model(), alias=alias, values=row[width:])
    return session
