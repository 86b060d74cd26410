"""Four relays draining 1,000 messages at once on PostgreSQL each handle every message exactly once in effect."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from outbox import relay
from outbox.models import AttemptOutcome, OutboxAttempt, OutboxMessage, OutboxStatus
from tests.fixtures.outbox import EffectHandler, delivery_counts, effect_counts, enqueue_messages

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_four_concurrent_relays_drain_a_thousand_messages_exactly_once(transactional_db, register_outbox_handler,
                                                                       effect_store, outbox_nudges):
    # given 1,000 due messages and a handler that records every delivery by idempotency key
    register_outbox_handler("test_effect", EffectHandler())
    messages = enqueue_messages(kind="test_effect", count=1000)
    results: list[relay.DrainResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run_relay() -> None:
        try:
            start.wait(10)
            results.append(relay.drain(queue="core", batch_size=25, max_batches=None))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    # when four relays drain the queue concurrently
    threads = [threading.Thread(target=run_relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # then every message was delivered exactly once (no double claim) and applied once
    assert errors == []
    assert sum(result.claimed for result in results) == 1000
    assert sum(result.succeeded for result in results) == 1000
    keys = {message.key for message in messages}
    assert delivery_counts() == {key: 1 for key in keys}
    assert effect_counts() == {key: 1 for key in keys}
    # and the work was shared, and every row is completed with exactly one success attempt
    assert sum(1 for result in results if result.claimed) >= 2
    assert OutboxMessage.objects.filter(status=OutboxStatus.COMPLETED).count() == 1000
    assert OutboxAttempt.objects.filter(outcome=AttemptOutcome.SUCCESS).count() == 1000
