"""Property (Hypothesis): rebuilding projections from the events reproduces the incremental rows exactly (R9, I8)."""
from __future__ import annotations

from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from outbox.eventstore import registry as eventstore_registry
from outbox.eventstore.services import NewEvent, event_append, projections_rebuild
from tests.fixtures.outbox import (
    COUNTER,
    COUNTER_PROJECTION,
    counter_projection_apply,
    counter_projection_reset,
    counter_register,
    counter_rows,
    counter_table_ensure,
)

command_strategy = st.tuples(
    st.sampled_from(["counter-a", "counter-b", "counter-c"]),
    st.lists(st.one_of(
        st.builds(lambda amount: NewEvent(type="CounterIncremented", data={"amount": amount}), st.integers(1, 100)),
        st.builds(lambda amount: NewEvent(type="CounterDecremented", data={"amount": amount}), st.integers(1, 100)),
        st.just(NewEvent(type="CounterReset")),
    ), min_size=1, max_size=3),
)


class RebuildProjectionProperties(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        counter_register()
        eventstore_registry.register_projection(COUNTER_PROJECTION, apply=counter_projection_apply,
                                     reset=counter_projection_reset, aggregate_types={COUNTER})

    @classmethod
    def tearDownClass(cls):
        eventstore_registry.unregister_projection(COUNTER_PROJECTION)
        eventstore_registry.unregister_aggregate(COUNTER)
        super().tearDownClass()

    @settings(max_examples=25, deadline=None)
    @given(commands=st.lists(command_strategy, min_size=1, max_size=8))
    def test_rebuild_equals_incremental_projection(self, commands):
        # given projection rows built incrementally by random commands on three aggregates
        counter_table_ensure()
        counter_projection_reset()
        versions: dict[str, int] = {}
        for aggregate_id, events in commands:
            with transaction.atomic():
                event_append(aggregate_type=COUNTER, aggregate_id=aggregate_id,
                             expected_version=versions.get(aggregate_id, 0), events=events, actor="user:p",
                             correlation_id="c")
            versions[aggregate_id] = versions.get(aggregate_id, 0) + len(events)
        incremental = counter_rows()
        # when the projections are rebuilt from the event store
        counts = projections_rebuild(names=[COUNTER_PROJECTION])
        # then the rows are identical and every event was replayed
        assert counter_rows() == incremental
        assert counts == {COUNTER_PROJECTION: sum(versions.values())}
