"""Property tests (Hypothesis): time travel and snapshots give exactly the fold of the events up to that point."""
from __future__ import annotations

import functools
import time

from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from outbox.eventstore import registry as eventstore_registry
from outbox.eventstore.models import Snapshot
from outbox.eventstore.selectors import aggregate_load
from outbox.eventstore.services import NewEvent, event_append, snapshot_save
from tests.fixtures.outbox import COUNTER, counter_fold, counter_initial_state, counter_register

event_strategy = st.one_of(
    st.builds(lambda amount: NewEvent(type="CounterIncremented", data={"amount": amount}), st.integers(1, 1000)),
    st.builds(lambda amount: NewEvent(type="CounterDecremented", data={"amount": amount}), st.integers(1, 1000)),
    st.just(NewEvent(type="CounterReset")),
)
# A history: batches of events, each batch optionally followed by a snapshot.
history_strategy = st.lists(st.tuples(st.lists(event_strategy, min_size=1, max_size=3), st.booleans()),
                            min_size=1, max_size=6)


def _fold(events) -> dict:
    return functools.reduce(counter_fold, events, counter_initial_state())


class AggregateLoadProperties(TestCase):
    """One database transaction per example (hypothesis.extra.django.TestCase)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        counter_register()

    @classmethod
    def tearDownClass(cls):
        eventstore_registry.unregister_aggregate(COUNTER)
        super().tearDownClass()

    def _append_history(self, history) -> list:
        appended = []
        for batch, take_snapshot in history:
            with transaction.atomic():
                appended += event_append(aggregate_type=COUNTER, aggregate_id="counter-p",
                                         expected_version=len(appended), events=batch, actor="user:p",
                                         correlation_id="c")
            if take_snapshot:
                snapshot_save(aggregate_id="counter-p")
            if connection.vendor == "sqlite":
                time.sleep(0.002)  # SQLite's clock has millisecond resolution: keep batch times apart
        return appended

    @settings(max_examples=25, deadline=None)
    @given(history=history_strategy)
    def test_load_at_every_version_equals_the_fold_with_and_without_snapshots(self, history):
        # given a random history of batches with snapshots in between
        appended = self._append_history(history)
        for version in range(1, len(appended) + 1):
            # when the aggregate is loaded at each version, with and without snapshots
            with_snapshot = aggregate_load(aggregate_id="counter-p", version=version)
            without_snapshot = aggregate_load(aggregate_id="counter-p", version=version, use_snapshot=False)
            # then both equal the plain fold of events 1..version
            expected = _fold(appended[:version])
            assert with_snapshot.state == without_snapshot.state == expected
            assert with_snapshot.version == without_snapshot.version == version

    @settings(max_examples=25, deadline=None)
    @given(history=history_strategy)
    def test_load_as_of_each_recorded_instant_equals_the_fold_of_events_recorded_by_then(self, history):
        # given a random history of batches with snapshots in between
        appended = self._append_history(history)
        assert Snapshot.objects.filter(aggregate_id="counter-p").count() == sum(1 for _, snap in history if snap)
        for instant in sorted({event.recorded_at for event in appended}):
            # when the aggregate is loaded as of each recorded instant, with and without snapshots
            with_snapshot = aggregate_load(aggregate_id="counter-p", as_of=instant)
            without_snapshot = aggregate_load(aggregate_id="counter-p", as_of=instant, use_snapshot=False)
            # then both equal the fold of exactly the events recorded at or before that instant
            expected = _fold([event for event in appended if event.recorded_at <= instant])
            assert with_snapshot.state == without_snapshot.state == expected
