"""State changes of online-banking logins: demo seed, registration, login, logout, password change.

Passwords are hashed by Django's hashers and never logged; tokens are never logged either (only the
first characters of a session id appear in log lines).
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
import string
from dataclasses import dataclass
from importlib import import_module

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from auth_app.client_address import client_ip_address
from auth_app.demo import DEMO_CUSTOMERS, DEMO_STAFF_LOGIN
from auth_app.errors import (
    AccountDisabled,
    AccountLocked,
    CustomerExists,
    InvalidCredentials,
    InvalidCurrentPassword,
    LoginIdExists,
    PasswordRejected,
)
from auth_app.models import LoginSession, new_public_id
from auth_app.tokens import token_issue_for_session

logger = logging.getLogger("bank.auth")

TEMPORARY_PASSWORD_LENGTH = 16
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


@transaction.atomic
def user_seed_demo(*, staff_secret: str) -> list[str]:
    """Create the demo customer logins and a staff superuser if missing (idempotent). Returns created login ids.

    Existing users are left untouched, so a changed password survives a re-seed.
    """
    user_model = get_user_model()
    created: list[str] = []
    for demo in DEMO_CUSTOMERS:
        if user_model.objects.filter(username=demo.login_id).exists():
            continue
        user = user_model(username=demo.login_id, public_id=demo.user_id, customer_id=demo.customer_id,
                          primary_account_id=demo.primary_account_id, email=demo.email)
        user.set_password(demo.secret)
        user.save()
        created.append(demo.login_id)
    if not user_model.objects.filter(username=DEMO_STAFF_LOGIN).exists():
        user_model.objects.create_superuser(username=DEMO_STAFF_LOGIN, email="staff@bank.example",
                                            password=staff_secret)
        created.append(DEMO_STAFF_LOGIN)
    return created


def login_id_for_customer(*, customer_id: str) -> str:
    """The original's default login id: `user` + the customer id without its first `CUST`
    (`CUST-482913` → `user-482913`, `CUST001` → `user001`)."""
    return "user" + customer_id.replace("CUST", "", 1)


def temporary_password_generate() -> str:
    """A CSPRNG temporary password (16 letters and digits, at least one of each; flows.md R33)."""
    while True:
        candidate = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))
        if any(ch.isdigit() for ch in candidate) and any(ch.isalpha() for ch in candidate):
            return candidate


@sensitive_variables("password", "current_password", "new_password")
def user_register(*, customer_id: str, primary_account_id: str, email: str, password: str | None,
                  login_id: str | None = None, must_change_password: bool = True):
    """Create the online-banking login of a core customer (one login per customer, unique login id).

    The password must pass Django's validators (a `temporary_password_generate()` value does); only its
    hash is stored, and `must_change_password` forces a change at first login (R33). `password=None`
    creates the login with an unusable password (the account-opening flow: the completion mail issues
    the temporary password later with `user_issue_temporary_password`). Used in-process by the
    account-opening flow and by the staff-only register route. Never logs the password.
    Raises `PasswordRejected` (400), `LoginIdExists` / `CustomerExists` (409).
    """
    user_model = get_user_model()
    login_id = login_id or login_id_for_customer(customer_id=customer_id)
    if password is not None:
        try:
            validate_password(password, user=user_model(username=login_id, email=email))
        except ValidationError as exc:
            raise PasswordRejected(extra={"reasons": list(exc.messages)}) from exc
    try:
        with transaction.atomic():
            if user_model.objects.filter(username=login_id).exists():
                raise LoginIdExists()
            if user_model.objects.filter(customer_id=customer_id).exists():
                raise CustomerExists()
            user = user_model(username=login_id, customer_id=customer_id, primary_account_id=primary_account_id,
                              email=email, must_change_password=must_change_password)
            if password is None:
                user.set_unusable_password()
            else:
                user.set_password(password)
            user.save()
    except IntegrityError as exc:  # a concurrent registration won the unique constraint
        if user_model.objects.filter(username=login_id).exists():
            raise LoginIdExists() from exc
        raise CustomerExists() from exc
    logger.info("login registered user_id=%s customer_id=%s", user.public_id, customer_id)
    return user


@sensitive_variables("password")
def user_issue_temporary_password(*, user) -> str:
    """Give `user` a fresh CSPRNG temporary password (hash stored only), force a change at first login,
    end the user's sessions, and return the plaintext ONCE to the caller (the completion mail, R33).

    Each call replaces the previous temporary password, so only the last one mailed works. Never logs it.
    """
    password = temporary_password_generate()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        user_sessions_end(user=user)
    logger.info("temporary password issued user_id=%s", user.public_id)
    return password


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the user, its new session and the signed token (expiry = session expiry)."""

    user: object
    session: LoginSession
    token: str
    expires_at: dt.datetime


@sensitive_variables("password", "current_password", "new_password")
def _authenticate(*, request: HttpRequest, login_id: str, password: str):
    """Django's `authenticate` with the request, so django-axes counts failures and refuses locked clients."""
    user = authenticate(request=request, username=login_id, password=password)
    if user is not None:
        return user
    if getattr(request, "axes_locked_out", False):
        raise AccountLocked()
    # ModelBackend refuses inactive users; name that case only to someone who knows the password.
    inactive = get_user_model().objects.filter(username=login_id, is_active=False).first()
    if inactive is not None and inactive.check_password(password):
        raise AccountDisabled()
    raise InvalidCredentials()


@sensitive_variables("password", "current_password", "new_password")
def login_authenticate(*, request: HttpRequest, login_id: str, password: str) -> LoginResult:
    """Check the credentials (django-axes lockout per login id and per client IP) and open a session.

    On success: a `LoginSession` row (64-hex id, expiry = now + JWT_ACCESS_TOKEN_MINUTES), `last_login`
    updated, this login id's failure records cleared. Raises `InvalidCredentials` (unknown id or wrong
    password alike), `AccountDisabled`, `AccountLocked`.
    """
    user = _authenticate(request=request, login_id=login_id, password=password)
    if not user.public_id:  # every login needs a wire userId (the JWT's user claim)
        user.public_id = new_public_id()
        user.save(update_fields=["public_id"])
    now = timezone.now()
    with transaction.atomic(durable=True):
        session = LoginSession.objects.create(
            session_id=secrets.token_hex(32), user=user, created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.JWT_ACCESS_TOKEN_MINUTES),
            ip_address=client_ip_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:255])
        user.last_login = now
        user.save(update_fields=["last_login"])
    # Only the owner's success clears the owner's failures: another client's success never resets them.
    axes_reset(username=user.get_username())
    token = token_issue_for_session(session=session)
    logger.info("login succeeded user_id=%s session=%s…", user.public_id, session.session_id[:8])
    return LoginResult(user=user, session=session, token=str(token), expires_at=session.expires_at)


def login_session_end(*, session: LoginSession) -> LoginSession:
    """Deactivate a session (logout): every token issued with it is refused from now on."""
    LoginSession.objects.filter(pk=session.pk, is_active=True).update(is_active=False, ended_at=timezone.now())
    session.refresh_from_db(fields=["is_active", "ended_at"])
    logger.info("logout user_id=%s session=%s…", session.user.public_id, session.session_id[:8])
    return session


def user_sessions_end(*, user, keep_session_id: str | None = None) -> int:
    """Deactivate all of a user's active sessions except `keep_session_id`; returns how many were ended."""
    sessions = LoginSession.objects.filter(user=user, is_active=True)
    if keep_session_id:
        sessions = sessions.exclude(session_id=keep_session_id)
    return sessions.update(is_active=False, ended_at=timezone.now())


@sensitive_variables("password", "current_password", "new_password")
def user_change_password(*, request: HttpRequest, user, current_password: str, new_password: str,
                         keep_session_id: str | None = None):
    """Change the password after re-checking the current one (counted by django-axes like a login).

    Applies Django's password validators, clears `must_change_password` and ends every other session of
    the user (the calling session stays valid). Raises `InvalidCurrentPassword`, `AccountLocked`,
    `PasswordRejected`.
    """
    try:
        _authenticate(request=request, login_id=user.get_username(), password=current_password)
    except (InvalidCredentials, AccountDisabled) as exc:
        raise InvalidCurrentPassword() from exc
    if new_password == current_password:
        raise PasswordRejected(extra={"reasons": ["The new password must differ from the current one."]})
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise PasswordRejected(extra={"reasons": list(exc.messages)}) from exc
    with transaction.atomic(durable=True):
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        ended = user_sessions_end(user=user, keep_session_id=keep_session_id)
    axes_reset(username=user.get_username())
    logger.info("password changed user_id=%s other_sessions_ended=%d", user.public_id, ended)
    return user


def login_session_prune(*, ended_before: dt.datetime | None = None) -> int:
    """Delete API login sessions that expired before `ended_before` (default: LOGIN_SESSION_RETENTION_DAYS
    ago); returns the count. Tokens of such sessions are long dead; the rows only served as a login audit trail.
    """
    cutoff = ended_before or timezone.now() - dt.timedelta(days=settings.LOGIN_SESSION_RETENTION_DAYS)
    deleted, _ = LoginSession.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def web_sessions_clear_expired() -> None:
    """Delete the web UI's expired Django sessions (Django never does this by itself)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
