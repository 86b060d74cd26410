"""The outbox registry: apps declare one handler per message kind; mistakes fail at registration."""
from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from outbox import registry
from tests.fixtures.outbox import ScriptedHandler


class Minimal:
    """A handler with only the required attributes (no hooks)."""

    queue = "notify"
    max_attempts = 5

    def deliver(self, message):
        return registry.Delivery.success()


def test_handler_hooks_are_optional_and_resolved_once(register_outbox_handler):
    # given a handler without hooks and one with all hooks
    # when both are registered
    minimal = registry.register_handler("test_minimal", Minimal())
    full = register_outbox_handler("test_full", ScriptedHandler(queue="core", max_attempts=10))
    registry.unregister_handler("test_minimal")
    # then missing hooks are None, present ones bound, and redelivery after lease expiry defaults to True
    assert (minimal.on_claim, minimal.on_success, minimal.on_failure, minimal.on_dead_letter) == (None,) * 4
    assert minimal.retry_after_lease_expiry is True and minimal.queue == "notify"
    assert full.on_success is not None and full.max_attempts == 10


@pytest.mark.parametrize(("attributes", "message"), [
    ({"queue": "mail", "max_attempts": 3}, "queue must be one of"),
    ({"queue": "core", "max_attempts": 0}, "max_attempts"),
])
def test_invalid_handler_is_refused_at_registration(attributes, message):
    # given a handler with a bad queue or attempt budget
    handler = type("Bad", (Minimal,), attributes)()
    # when it is registered
    # then registration fails
    with pytest.raises(ImproperlyConfigured, match=message):
        registry.register_handler("test_bad", handler)


def test_a_kind_has_exactly_one_handler(register_outbox_handler):
    # given a registered handler
    first = register_outbox_handler("test_once", Minimal())
    # when another handler claims the same kind
    # then it is refused (re-registering the same object is fine)
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        registry.register_handler("test_once", Minimal())
    assert registry.register_handler("test_once", first).handler is first




