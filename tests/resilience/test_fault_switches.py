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


def test_the_account_opening_handler_has_no_cpu_hog_in_the_product():
    # given the product's account-opening view (the test settings build on the product's base settings)
    from accounts.api.views import ApplicationCreateApi

    # then its handler is the product's own, not E19's switchable wrapper
    assert not getattr(ApplicationCreateApi.post, "cpu_hog_switch", False)


def test_production_settings_name_only_the_command_app(tmp_path, monkeypatch):
    # given the production settings module, loaded with the secrets it insists on
    import importlib
    import sys

    for name, value in (("SECRET_KEY", "x" * 50), ("JWT_SIGNING_KEY", "y" * 50),
                        ("DATABASE_URL", "sqlite:///" + str(tmp_path / "db.sqlite3")),
                        ("CORE_DATABASE_URL", "sqlite:///" + str(tmp_path / "core.sqlite3"))):
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "config.settings.production", raising=False)
    try:
        production = importlib.import_module("config.settings.production")
    finally:
        sys.modules.pop("config.settings.production", None)
    # then the resilience app (the command) is installed there, the fault switches are not
    assert "resilience" in production.INSTALLED_APPS
    assert not any("fault_switches" in entry for entry in production.INSTALLED_APPS)
    # and the harness's settings add exactly the switches
    try:
        harness_apps = importlib.import_module("resilience.settings").INSTALLED_APPS
    finally:
        sys.modules.pop("resilience.settings", None)
        sys.modules.pop("config.settings.production", None)
    assert [entry for entry in harness_apps if entry not in production.INSTALLED_APPS] == \
        ["resilience.fault_switches.FaultSwitchesConfig"]


def test_cpu_hog_wrapper_burns_the_flag_files_milliseconds_only_while_the_flag_is_set(tmp_path, monkeypatch):
    # given a view class wrapped by E19's switch and the flag folder of a run
    import time

    from resilience.fault_switches import CPU_HOG_FLAG, cpu_hog_wrap

    class View:
        def post(self, request):
            return ("handled", request)

    monkeypatch.setenv("RES_FLAG_DIR", str(tmp_path))
    cpu_hog_wrap(View)
    cpu_hog_wrap(View)  # idempotent: wrapped once
    # when the flag is off
    started = time.thread_time()
    assert View().post("r1") == ("handled", "r1")
    off_cpu = time.thread_time() - started
    # when the flag says 150 ms
    (tmp_path / CPU_HOG_FLAG).write_text("150")
    started = time.thread_time()
    assert View().post("r2") == ("handled", "r2")
    on_cpu = time.thread_time() - started
    # then the handler still answers, after this thread used at least 150 ms of CPU (and none when off)
    assert on_cpu >= 0.150
    assert off_cpu < 0.150
    assert View.post.__wrapped__.__name__ == "post"
