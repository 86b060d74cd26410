from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("イベントと outbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from outbox.invariants import register_outbox_checks

        register_outbox_checks()
