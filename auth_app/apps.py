from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthAppConfig(AppConfig):
    name = "auth_app"
    verbose_name = _("ログインと認証")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI description of CustomerJWTAuthentication with drf-spectacular.
        from auth_app import openapi  # noqa: F401
