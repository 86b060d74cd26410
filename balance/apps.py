from django.apps import AppConfig


class BalanceConfig(AppConfig):
    name = "balance"
    default_auto_field = "django.db.models.BigAutoField"
