from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Account opening: application → approval → provisioning → credentials."""

    name = "accounts"
    verbose_name = _("口座開設")
    default_auto_field = "django.db.models.BigAutoField"
