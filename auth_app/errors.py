"""Refusals of the auth routes, with the exact codes and texts of the original (api.md §4.1–4.3, family A)."""
from __future__ import annotations

from config.errors import ApplicationError, ConflictError


class AuthError(ApplicationError):
    """Base of the auth refusals; the class carries the wire code, status and message."""

    default_message = "Authentication failed"

    def __init__(self, message: str | None = None, **kwargs) -> None:
        super().__init__(message or self.default_message, **kwargs)


class MissingBody(AuthError):
    code, http_status, default_message = "MISSING_BODY", 400, "Request body is required"


class MissingCredentials(AuthError):
    code, http_status, default_message = "MISSING_CREDENTIALS", 400, "Login ID and password are required"


class InvalidCredentials(AuthError):
    code, http_status, default_message = "INVALID_CREDENTIALS", 401, "Invalid login ID or password"


class AccountDisabled(AuthError):
    code, http_status, default_message = "ACCOUNT_DISABLED", 401, "Account is disabled"


class AccountLocked(AuthError):
    """Too many failed logins (django-axes). 401 as in the original's table, so the login form shows it."""

    code, http_status, default_message = "ACCOUNT_LOCKED", 401, "Account is temporarily locked"


class MissingToken(AuthError):
    code, http_status, default_message = "MISSING_TOKEN", 401, "Authorization header is required"


class InvalidToken(AuthError):
    code, http_status, default_message = "INVALID_TOKEN", 401, "Invalid or expired token"


class UserNotFound(AuthError):
    code, http_status, default_message = "USER_NOT_FOUND", 401, "User not found"


class SessionExpired(AuthError):
    code, http_status, default_message = "SESSION_EXPIRED", 401, "No active session found"


class MissingFields(AuthError):
    code, http_status, default_message = "MISSING_FIELDS", 400, "All fields are required"


class RegistrationForbidden(AuthError):
    code, http_status = "REGISTRATION_FORBIDDEN", 403
    default_message = "Logins are created by the account-opening flow; this route is for bank staff only"


class LoginIdExists(AuthError, ConflictError):
    code, http_status, default_message = "LOGIN_ID_EXISTS", 409, "Login ID already exists"


class CustomerExists(AuthError, ConflictError):
    code, http_status, default_message = "CUSTOMER_EXISTS", 409, "Customer already has an online banking account"


class PasswordRejected(AuthError):
    """The new password fails Django's validators (the messages are in `extra.reasons`)."""

    code, http_status, default_message = "PASSWORD_REJECTED", 400, "The new password does not meet the password rules"


class InvalidCurrentPassword(AuthError):
    code, http_status, default_message = "INVALID_CURRENT_PASSWORD", 400, "Current password is incorrect"
