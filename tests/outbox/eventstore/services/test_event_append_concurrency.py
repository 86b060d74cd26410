"""Concurrent writers on PostgreSQL: no duplicate or skipped versions; a reader of the log never skips an event."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from config.errors import ConcurrencyError
from outbox.eventstore.models import Event
from outbox.eventstore.selectors import EVENT_LOG_START, events_after
from outbox.eventstore.services import event_append
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


def test_concurrent_writers_retrying_on_conflict_produce_gapless_versions_and_unique_positions(
        transactional_db, counter_aggregate):
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
    # then the versions are exactly 1..60 (no duplicate, no gap), and positions grow with the versions
    assert errors == []
    rows = list(Event.objects.filter(aggregate_id="counter-hot").order_by("version")
                .values_list("version", "position"))
    assert [version for version, _ in rows] == list(range(1, writers * per_writer + 1))
    assert [position for _, position in rows] == sorted({position for _, position in rows})
    assert conflicts, "the writers really raced"


def test_a_reader_following_the_log_sees_every_event_once_while_writers_commit(transactional_db, counter_aggregate):
    # given 4 writers appending batches to their own aggregates while a reader follows the log
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        cursor = EVENT_LOG_START
        while True:
            finished = stop.is_set()  # read once more after the writers are done
            page = events_after(cursor=cursor, limit=1000)
            seen.extend(event.id for event in page.events)
            cursor = page.cursor
            if finished and not page.events:
                break
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
    # then the reader saw every committed event exactly once, each aggregate's in version order
    assert errors == []
    assert sorted(seen) == sorted(Event.objects.values_list("id", flat=True))
    assert len(seen) == len(set(seen)) == 120
    order = {event_id: index for index, event_id in enumerate(seen)}
    for index in range(4):
        ids = list(Event.objects.filter(aggregate_id=f"counter-{index}").order_by("version")
                   .values_list("id", flat=True))
        assert [order[event_id] for event_id in ids] == sorted(order[event_id] for event_id in ids)


def _naive_read_after(position: int) -> list[Event]:
    """The design this replaced, as a reader would use it: events after a position, in position order."""
    return list(Event.objects.filter(position__gt=position).order_by("position"))


def test_a_reader_never_skips_an_event_that_commits_after_a_higher_position(transactional_db, counter_aggregate):
    # given writer A has appended (lower position) and is still open, when writer B appends (higher position)
    # and commits
    a_appended, a_may_commit = threading.Event(), threading.Event()

    def writer_a(_index: int) -> None:
        with transaction.atomic():
            event_append(aggregate_type=COUNTER, aggregate_id="counter-slow", expected_version=0,
                         events=[increment()], actor="user:a", correlation_id="a")
            a_appended.set()
            assert a_may_commit.wait(30)

    thread_a = threading.Thread(target=lambda: _run_threads(1, writer_a))
    thread_a.start()
    assert a_appended.wait(30)
    with transaction.atomic():
        event_append(aggregate_type=COUNTER, aggregate_id="counter-fast", expected_version=0,
                     events=[increment()], actor="user:b", correlation_id="b")
    # when a reader reads while A is still open, then again after A committed
    naive_first = _naive_read_after(0)
    first = events_after(cursor=EVENT_LOG_START)
    a_may_commit.set()
    thread_a.join(30)
    naive_second = _naive_read_after(naive_first[-1].position)
    second = events_after(cursor=first.cursor)
    # then a reader by position alone skips A for good (the hazard: B's higher position was read first) ...
    slow_position = Event.objects.get(aggregate_id="counter-slow").position
    assert [event.aggregate_id for event in naive_first] == ["counter-fast"]
    assert naive_first[-1].position > slow_position and naive_second == []
    # ... while events_after waits behind A and then returns both, none skipped
    assert first.events == [] and first.cursor == EVENT_LOG_START
    assert [event.aggregate_id for event in second.events] == ["counter-slow", "counter-fast"]
