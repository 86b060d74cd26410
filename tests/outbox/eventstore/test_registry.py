"""The event-store registry: apps declare aggregate kinds and projections; mistakes fail at registration."""
from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from outbox.eventstore import registry


def test_aggregate_needs_event_types_and_cannot_be_redeclared_differently():
    # given an aggregate declaration
    registry.register_aggregate("test_agg", event_types={"A"}, fold=lambda s, e: s, initial_state=dict)
    try:
        # when it is declared again with another set, or a kind declares no types
        # then both are refused
        with pytest.raises(ImproperlyConfigured, match="differently"):
            registry.register_aggregate("test_agg", event_types={"B"}, fold=lambda s, e: s,
                                                   initial_state=dict)
        with pytest.raises(ImproperlyConfigured, match="no event types"):
            registry.register_aggregate("test_empty", event_types=set(), fold=lambda s, e: s,
                                                   initial_state=dict)
    finally:
        registry.unregister_aggregate("test_agg")


def test_projection_follows_only_its_aggregate_types():
    # given projections for one kind and for all kinds
    only_transfers = registry.register_projection("test_p1", apply=print, reset=print,
                                                             aggregate_types={"transfer"})
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
