"""The registry: apps declare aggregate kinds, handlers and projections; mistakes fail at registration."""
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


def test_aggregate_needs_event_types_and_cannot_be_redeclared_differently():
    # given an aggregate declaration
    registry.register_aggregate("test_agg", event_types={"A"}, fold=lambda s, e: s, initial_state=dict)
    try:
        # when it is declared again with another set, or a kind declares no types
        # then both are refused
        with pytest.raises(ImproperlyConfigured, match="differently"):
            registry.register_aggregate("test_agg", event_types={"B"}, fold=lambda s, e: s, initial_state=dict)
        with pytest.raises(ImproperlyConfigured, match="no event types"):
            registry.register_aggregate("test_empty", event_types=set(), fold=lambda s, e: s, initial_state=dict)
    finally:
        registry.unregister_aggregate("test_agg")


def test_projection_follows_only_its_aggregate_types():
    # given projections for one kind and for all kinds
    only_transfers = registry.register_projection("test_p1", apply=print, reset=print, aggregate_types={"transfer"})
    everything = registry.register_projection("test_p2", apply=print, reset=print)
    try:
        # when asking which follow each kind
        # then the filter applies
        assert only_transfers in registry.projections_for("transfer")
        assert only_transfers not in registry.projections_for("account_opening")
        assert everything in registry.projections_for("account_opening")
    finally:
        registry.unregister_projection("test_p1")
        registry.unregister_projection("test_p2")
