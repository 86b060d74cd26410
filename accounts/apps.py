from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Account opening: application → approval → provisioning → credentials."""

    name = "accounts"
    verbose_name = _("口座開設")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import events as ev
        from accounts.invariants import register_accounts_checks
        from accounts.outbox_handlers import handlers_register
        from accounts.projections import PROJECTION_NAME, application_project, application_projection_reset
        from outbox.eventstore.registry import register_aggregate, register_projection

        register_aggregate(ev.AGGREGATE_TYPE, event_types=ev.EVENT_TYPES, fold=ev.application_fold,
                           initial_state=ev.application_initial_state)
        register_projection(PROJECTION_NAME, apply=application_project, reset=application_projection_reset,
                            aggregate_types={ev.AGGREGATE_TYPE})
        handlers_register()
        register_accounts_checks()
        checks.register(site_url_check, checks.Tags.security, deploy=True)


def site_url_check(app_configs, **kwargs) -> list:
    """`check --deploy`: the completion mail's login link must not point at this machine's loopback address."""
    from urllib.parse import urlsplit

    from django.conf import settings

    host = urlsplit(settings.ACCOUNTS_ONLINE_BANKING_URL or settings.SITE_URL).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") and not settings.DEBUG:
        return [checks.Warning("SITE_URL points at a loopback address: the completion mail's login link will "
                               "not reach customers", hint="Set SITE_URL to the public address, e.g. "
                               "https://bank.example.jp", id="accounts.W001")]
    return []
