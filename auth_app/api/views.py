"""Auth routes (api.md §4): login, verify, logout, password change, and the restricted register route.

Error bodies are family A (`{"error": {"code", "message", "timestamp"}}`), rendered by
config.api.exception_handler from the `AuthError` subclasses the services and selectors raise.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from auth_app.authentication import STAFF_AUTHENTICATION_CLASSES, CustomerJWTAuthentication
from auth_app.errors import (
    InvalidCredentials,
    MissingBody,
    MissingCredentials,
    MissingFields,
    MissingToken,
    RegistrationForbidden,
)
from auth_app.selectors import user_get_by_token
from auth_app.services import login_authenticate, login_session_end, user_change_password, user_register
from auth_app.throttling import LoginRateThrottle, WriteRateThrottle
from config.api import AUTH, AuthErrorSerializer, BodylessCommandMixin, GatewayErrorSerializer, iso_time

# Longest values worth checking: longer ones cannot match a stored login and would only cost hashing time.
LOGIN_ID_MAX_LENGTH = 150
PASSWORD_MAX_LENGTH = 1024


def _body_object(request) -> dict[str, Any]:
    """The JSON body as an object; an empty body (or JSON null) is `MissingBody` (api.md §4.1)."""
    try:
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        content_length = 0
    if content_length <= 0:  # DRF reads no body then either
        raise MissingBody()
    data = request.data
    if data is None:
        raise MissingBody()
    return data if isinstance(data, dict) else {}


def _required_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value != "" else None


def _is_checkable(value: str, max_length: int) -> bool:
    return len(value) <= max_length and "\x00" not in value


class AuthUserSerializer(serializers.Serializer):
    userId = serializers.CharField()
    loginId = serializers.CharField()
    email = serializers.CharField()
    customerId = serializers.CharField()
    primaryAccountId = serializers.CharField()


class VerifiedUserSerializer(serializers.Serializer):
    userId = serializers.CharField()
    email = serializers.CharField()
    customerId = serializers.CharField()
    primaryAccountId = serializers.CharField()


class AuthApi(APIView):
    """Family-A routes; no DRF authentication unless a view asks for it."""

    error_family = AUTH
    authentication_classes: list = []
    permission_classes: list = []


class LoginApi(AuthApi):
    """POST /api/auth/login — login id + password → `{token, user, expiresAt}` (+ `mustChangePassword`)."""

    throttle_classes = [LoginRateThrottle]

    class InputSerializer(serializers.Serializer):
        loginId = serializers.CharField(max_length=LOGIN_ID_MAX_LENGTH)
        password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        user = AuthUserSerializer()
        expiresAt = serializers.CharField(help_text="Token expiry, ISO time (ms, Z)")
        mustChangePassword = serializers.BooleanField()

    @extend_schema(operation_id="auth_login", request=InputSerializer, responses={
        200: OutputSerializer,
        400: OpenApiResponse(AuthErrorSerializer, description="MISSING_BODY, MISSING_CREDENTIALS, MALFORMED_JSON"),
        401: OpenApiResponse(AuthErrorSerializer,
                             description="INVALID_CREDENTIALS, ACCOUNT_DISABLED, ACCOUNT_LOCKED (5 failures "
                                         "per login id or per client address; 15 minutes)"),
        429: OpenApiResponse(GatewayErrorSerializer, description="Too Many Requests"),
    })
    def post(self, request):
        body = _body_object(request)
        login_id, password = _required_text(body, "loginId"), _required_text(body, "password")
        if login_id is None or password is None:
            raise MissingCredentials()
        if not (_is_checkable(login_id, LOGIN_ID_MAX_LENGTH) and _is_checkable(password, PASSWORD_MAX_LENGTH)):
            # No stored login can match; answer like any wrong credentials without touching the database.
            raise InvalidCredentials()
        result = login_authenticate(request=request._request, login_id=login_id, password=password)
        user = result.user
        return Response(self.OutputSerializer({
            "token": result.token,
            "user": {"userId": user.public_id, "loginId": user.get_username(), "email": user.email,
                     "customerId": user.customer_id or "", "primaryAccountId": user.primary_account_id or ""},
            "expiresAt": iso_time(result.expires_at),
            "mustChangePassword": user.must_change_password,
        }).data)


class VerifyApi(AuthApi):
    """GET /api/auth/verify — `Authorization: Bearer <token>` (exact prefix) → `{success, valid, user}`.

    Unlike the original it checks the token's OWN session (api.md §8), so a logged-out token fails.
    """

    class OutputSerializer(serializers.Serializer):
        success = serializers.BooleanField()
        valid = serializers.BooleanField()
        user = VerifiedUserSerializer()

    @extend_schema(operation_id="auth_verify", responses={
        200: OutputSerializer,
        401: OpenApiResponse(AuthErrorSerializer, description="MISSING_TOKEN, INVALID_TOKEN, USER_NOT_FOUND, "
                                                              "ACCOUNT_DISABLED, SESSION_EXPIRED"),
    })
    def get(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            raise MissingToken()
        identity = user_get_by_token(raw_token=header[len("Bearer "):])
        user = identity.user
        return Response(self.OutputSerializer({
            "success": True,
            "valid": True,
            "user": {"userId": user.public_id, "email": user.email, "customerId": user.customer_id or "",
                     "primaryAccountId": user.primary_account_id or ""},
        }).data)


AUTH_OR_GATEWAY_ERROR = PolymorphicProxySerializer(
    component_name="AuthOrGatewayError", serializers=[AuthErrorSerializer, GatewayErrorSerializer],
    resource_type_field_name=None)


class _MessageSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class TokenAuthApi(AuthApi):
    """Routes of a logged-in user (any role): a valid token of an active session is required."""

    authentication_classes = [CustomerJWTAuthentication]

    def check_permissions(self, request):
        if request.auth is None:
            self.permission_denied(request)  # no token → 401 {"message": "Unauthorized"}
        super().check_permissions(request)


class LogoutApi(BodylessCommandMixin, TokenAuthApi):
    """POST /api/auth/logout (new, api.md §4.5) — ends the token's session; the token is refused from now on."""

    @extend_schema(operation_id="auth_logout", request=None, responses={200: _MessageSerializer})
    def post(self, request):
        login_session_end(session=request.auth.session)
        return Response({"success": True, "message": "Logged out"})


class PasswordChangeApi(TokenAuthApi):
    """POST /api/auth/password (new) — `{currentPassword, newPassword}`; clears the first-login change flag."""

    throttle_classes = [WriteRateThrottle]

    class InputSerializer(serializers.Serializer):
        currentPassword = serializers.CharField(max_length=PASSWORD_MAX_LENGTH)
        newPassword = serializers.CharField(max_length=PASSWORD_MAX_LENGTH)

    class OutputSerializer(_MessageSerializer):
        mustChangePassword = serializers.BooleanField()

    @extend_schema(operation_id="auth_password_change", request=InputSerializer, responses={
        200: OutputSerializer,
        400: OpenApiResponse(AuthErrorSerializer, description="MISSING_BODY, MISSING_FIELDS, "
                                                              "INVALID_CURRENT_PASSWORD, PASSWORD_REJECTED"),
        401: OpenApiResponse(AUTH_OR_GATEWAY_ERROR, description="ACCOUNT_LOCKED (family A) or "
                                                                "Unauthorized (gateway shape) for a bad token"),
    })
    def post(self, request):
        body = _body_object(request)
        current, new = _required_text(body, "currentPassword"), _required_text(body, "newPassword")
        if current is None or new is None:
            raise MissingFields()
        serializer = self.InputSerializer(data={"currentPassword": current, "newPassword": new})
        serializer.is_valid(raise_exception=True)
        user = user_change_password(request=request._request, user=request.user, current_password=current,
                                    new_password=new, keep_session_id=request.auth.session.session_id)
        return Response(self.OutputSerializer({"success": True, "message": "Password changed",
                                               "mustChangePassword": user.must_change_password}).data)


class RegisterApi(AuthApi):
    """POST /api/users/register — kept for compatibility, but restricted to bank staff.

    The original let anyone holding the public API key bind any account id to a new login with a
    password of their choice (api.md §8). Logins are now created in-process by the account-opening
    flow (`auth_app.services.user_register`, flows.md R32), so this route only serves bank staff who
    hold the `auth_app.add_user` permission (Django staff session with CSRF, or a staff JWT); the staff
    member is trusted to have checked that the core account belongs to the customer. Everyone else —
    anonymous callers with only the API key, customers with a JWT — gets 403 `REGISTRATION_FORBIDDEN`
    before the body is even read, so the route cannot create or probe logins. Created logins must
    change their password at first login.
    """

    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    throttle_classes = [WriteRateThrottle]

    class InputSerializer(serializers.Serializer):
        customerId = serializers.RegexField(r"^CUST[-A-Za-z0-9]{1,28}$", max_length=32)
        accountId = serializers.RegexField(r"^[0-9]{10}$")
        email = serializers.EmailField(max_length=254)
        temporaryPassword = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)
        loginId = serializers.RegexField(r"^[A-Za-z0-9@.+_-]{3,150}$", required=False)

    class OutputSerializer(serializers.Serializer):
        success = serializers.BooleanField()
        userId = serializers.CharField()
        loginId = serializers.CharField()
        email = serializers.CharField()
        customerId = serializers.CharField()
        primaryAccountId = serializers.CharField()
        message = serializers.CharField()

    @extend_schema(operation_id="users_register", request=InputSerializer, responses={
        201: OutputSerializer,
        400: OpenApiResponse(AuthErrorSerializer, description="MISSING_BODY, MISSING_FIELDS, VALIDATION_ERROR, "
                                                              "PASSWORD_REJECTED"),
        403: OpenApiResponse(AuthErrorSerializer, description="REGISTRATION_FORBIDDEN unless staff with "
                                                              "auth_app.add_user"),
        409: OpenApiResponse(AuthErrorSerializer, description="LOGIN_ID_EXISTS, CUSTOMER_EXISTS"),
    })
    def post(self, request):
        user = request.user
        if not (user is not None and user.is_active and user.is_staff and user.has_perm("auth_app.add_user")):
            raise RegistrationForbidden()
        body = _body_object(request)
        if any(_required_text(body, name) is None for name in
               ("customerId", "accountId", "email", "temporaryPassword")):
            raise MissingFields()
        serializer = self.InputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = user_register(customer_id=data["customerId"], primary_account_id=data["accountId"],
                                email=data["email"], password=data["temporaryPassword"], login_id=data.get("loginId"))
        return Response(self.OutputSerializer({
            "success": True, "userId": created.public_id, "loginId": created.get_username(),
            "email": created.email, "customerId": created.customer_id,
            "primaryAccountId": created.primary_account_id, "message": "User registered successfully",
        }).data, status=status.HTTP_201_CREATED)

