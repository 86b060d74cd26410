"""The harness's fault switches (resilience/fault_switches.py) are never part of the product: its settings load the
`resilience` app (the command only), not the switches, so no handler is wrapped."""
from django.apps import apps
from django.conf import settings

from accounts import events as accounts_events
from outbox import registry
from resilience.fault_switches import SwitchableHandler
from transfers import events as transfers_events


def test_product_settings_load_the_command_app_but_not_the_fault_switches():
    # given the settings every product process uses (the test settings build on the same base)
    installed = list(settings.INSTALLED_APPS)
    # then the resilience app is there for `manage.py resilience`, the fault switches are not
    assert "resilience" in installed
    assert not any("fault_switches" in entry for entry in installed)
    assert not apps.is_installed("resilience.fault_switches")


def test_switchable_kinds_keep_their_own_handlers_in_the_product():
    # when the product's handlers for the two switchable kinds are looked up
    handlers = [registry.handler_get(kind).handler
                for kind in (transfers_events.KIND_MAIL_COMPLETED, accounts_events.KIND_CREATE_ACCOUNT)]
    # then neither is wrapped by a fault switch
    assert not any(isinstance(handler, SwitchableHandler) for handler in handlers)
