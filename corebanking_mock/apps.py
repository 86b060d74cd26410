from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorebankingMockConfig(AppConfig):
    name = "corebanking_mock"
    verbose_name = _("勘定系モック")
    default_auto_field = "django.db.models.BigAutoField"
