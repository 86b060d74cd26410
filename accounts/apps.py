from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Account opening: application → approval → provisioning → credentials."""

    name = "accounts"
    verbose_name = _("口座開設")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import events as ev
        from accounts.checks import register_accounts_checks
        from accounts.handlers import handlers_register
        from accounts.projections import PROJECTION_NAME, application_project, application_projection_reset
        from outbox.registry import register_aggregate, register_projection

        register_aggregate(ev.AGGREGATE_TYPE, event_types=ev.EVENT_TYPES, fold=ev.application_fold,
                           initial_state=ev.application_initial_state)
        register_projection(PROJECTION_NAME, apply=application_project, reset=application_projection_reset,
                            aggregate_types={ev.AGGREGATE_TYPE})
        handlers_register()
        register_accounts_checks()
