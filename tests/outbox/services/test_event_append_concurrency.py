"""Concurrent writers on PostgreSQL: no duplicate or skipped versions, positions gap-free in commit order."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from config.errors import ConcurrencyError
from outbox.models import Event
from outbox.selectors import events_since
from outbox.services import event_append
from tests.fixtures.outbox import COUNTER, increment

pytestmark = [pytest.mark.postgres]


def _run_threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_two_writers_with_the_same_expected_version_one_wins_one_gets_a_conflict(transactional_db, counter_aggregate):
    # given two writers that both read version 0 and line up behind a barrier
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(index: int) -> None:
        with transaction.atomic():
            barrier.wait(10)
            try:
                event_append(aggregate_type=COUNTER, aggregate_id="counter-race", expected_version=0,
                             events=[increment(index + 1)], actor=f"user:{index}", correlation_id=f"c{index}")
                outcomes.append("appended")
            except ConcurrencyError:
                outcomes.append("conflict")
                raise

    # when both append at once
    errors = _run_threads(2, write)
    # then exactly one appended version 1 and the other got a ConcurrencyError (409)
    assert sorted(outcomes) == ["appended", "conflict"]
    assert [type(error) for error in errors] == [ConcurrencyError]
    assert list(Event.objects.filter(aggregate_id="counter-race").values_list("version", flat=True)) == [1]


def test_concurrent_writers_retrying_on_conflict_produce_gapless_versions_and_positions(transactional_db,
                                                                                       counter_aggregate):
    # given 4 writers each appending 15 events to one aggregate, re-reading the version after each conflict
    writers, per_writer = 4, 15
    conflicts: list[int] = []

    def write(index: int) -> None:
        for _ in range(per_writer):
            while True:
                current = Event.objects.filter(aggregate_id="counter-hot").count()
                try:
                    with transaction.atomic():
                        event_append(aggregate_type=COUNTER, aggregate_id="counter-hot", expected_version=current,
                                     events=[increment()], actor=f"user:{index}", correlation_id="c")
                    break
                except ConcurrencyError:
                    conflicts.append(index)

    # when they run concurrently
    errors = _run_threads(writers, write)
    # then the versions are exactly 1..60 (no duplicate, no gap) and so are the global positions
    assert errors == []
    versions = list(Event.objects.filter(aggregate_id="counter-hot").order_by("version")
                    .values_list("version", flat=True))
    assert versions == list(range(1, writers * per_writer + 1))
    positions = list(Event.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(positions[0], positions[0] + writers * per_writer))
    assert conflicts, "the writers really raced"


def test_a_reader_never_sees_a_position_gap_that_is_filled_later(transactional_db, counter_aggregate):
    # given 4 writers appending batches to their own aggregates while a reader follows the global position
    stop = threading.Event()
    gaps: list[tuple[int, int]] = []
    seen: list[int] = []

    def read() -> None:
        last = 0
        while not stop.is_set():
            for event in events_since(position=last, limit=1000):
                if event.position != last + 1:
                    gaps.append((last, event.position))
                last = event.position
                seen.append(event.position)
        connection.close()

    def write(index: int) -> None:
        for version in range(0, 30, 3):
            with transaction.atomic():
                event_append(aggregate_type=COUNTER, aggregate_id=f"counter-{index}", expected_version=version,
                             events=[increment(), increment(), increment()], actor="user:1", correlation_id="c")

    reader = threading.Thread(target=read)
    reader.start()
    # when the writers commit concurrently
    errors = _run_threads(4, write)
    stop.set()
    reader.join(30)
    # then every read returned a contiguous continuation of what was read before (commit order = position order)
    assert errors == []
    assert gaps == []
    assert len(seen) <= 120
