from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project package as an app: project-wide management commands (`manage.py resilience`)."""

    name = "config"
    label = "config"
    default_auto_field = "django.db.models.BigAutoField"
