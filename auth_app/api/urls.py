"""API routes of the auth_app app (mounted under /v1/; no trailing slashes, api.md §1.2)."""
from django.urls import path

from auth_app.api.views import LoginApi, LogoutApi, PasswordChangeApi, RegisterApi, VerifyApi

urlpatterns = [
    path("api/auth/login", LoginApi.as_view(), name="auth-login"),
    path("api/auth/verify", VerifyApi.as_view(), name="auth-verify"),
    path("api/auth/logout", LogoutApi.as_view(), name="auth-logout"),
    path("api/auth/password", PasswordChangeApi.as_view(), name="auth-password"),
    path("api/users/register", RegisterApi.as_view(), name="users-register"),
]
