from django.apps import AppConfig


class AuthAppConfig(AppConfig):
    name = "auth_app"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI description of CustomerJWTAuthentication with drf-spectacular.
        from auth_app import openapi  # noqa: F401
