"""Reads of logins and sessions."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import Model
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


def _from_row(model: type[Model], alias: str, values: tuple) -> Model:
    """A model instance from its concrete columns in field order, converted as the ORM would (SQLite hands back
    text datetimes and integer booleans)."""
    connection = connections[alias]
    converted = []
    for field, value in zip(model._meta.concrete_fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(alias, None, converted)


@functools.cache
def _session_with_user_sql() -> str:
    user_model = get_user_model()
    quote = connections[router.db_for_read(LoginSession)].ops.quote_name
    session_columns = [f"s.{quote(field.column)}" for field in LoginSession._meta.concrete_fields]
    user_columns = [f"u.{quote(field.column)}" for field in user_model._meta.concrete_fields]
    return (f"SELECT {', '.join(session_columns + user_columns)} "
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
    session = _from_row(LoginSession, alias, row[:width])
    session.user = _from_row(get_user_model(), alias, row[width:])
    return session


def login_session_list_active(*, user) -> list[LoginSession]:
    """The user's active, unexpired sessions, newest first."""
    return list(LoginSession.objects.filter(user=user, is_active=True, expires_at__gt=timezone.now())
                .order_by("-created_at"))
