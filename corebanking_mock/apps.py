from django.apps import AppConfig


class CorebankingMockConfig(AppConfig):
    name = "corebanking_mock"
    default_auto_field = "django.db.models.BigAutoField"
