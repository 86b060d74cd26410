"""How many SQL statements one transfer costs the bank database, counted, not timed.

Every statement is a round trip to the database while the step holds its row locks, so these budgets keep the hot
path from growing unnoticed. They count everything the connection sends, BEGIN/COMMIT and savepoints included. The
goals of the lean-pipeline work are 8 for accepting and 10 per leg; docs/performance.md shows where the rest goes.
"""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox import relay
from tests.fixtures.transfers import transfer_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases="__all__")]

# Today's counts on PostgreSQL (they were 15 and 36 before the one-statement appends, inserts and claims and before
# the daily total moved onto the locked source row).
ACCEPT_BUDGET = 9  # the login-session check, then BEGIN … COMMIT of the accepting transaction
LEG_BUDGET = 15  # a one-row claim (1), the leg's start (5) and its settle with the recorded result (9)


def _statements(queries) -> list[str]:
    return [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def warmed(payer, payee, transfer_post, core_db, core_server, outbox_nudges, fast_retries):
    """One whole transfer first, so first-use work (lazy loads, connection set-up) is not counted."""
    transfer_post(payer, transfer_body(1))
    for _ in range(10):
        relay.drain(queue="core", max_batches=None)
    return payer


def test_accepting_a_transfer_stays_within_its_statement_budget(warmed, transfer_post):
    # given a logged-in payer with funds
    # when a transfer is accepted
    with CaptureQueriesContext(connection) as queries:
        response = transfer_post(warmed, transfer_body(10_000))
    # then it was accepted within the budget
    assert response.status_code == 202
    assert len(_statements(queries)) <= ACCEPT_BUDGET, "\n".join(_statements(queries))


@pytest.mark.parametrize("leg", ["withdraw", "deposit"])
def test_each_leg_from_claim_to_settle_stays_within_its_statement_budget(warmed, transfer_post, leg):
    # given an accepted transfer (and, for the deposit, its withdrawal already recorded)
    transfer_post(warmed, transfer_body(10_000))
    if leg == "deposit":
        assert relay.drain(queue="core", max_batches=1).claimed == 1
    # when the relay claims, delivers and settles the leg's row against the live core mock
    with CaptureQueriesContext(connection) as queries:
        result = relay.drain(queue="core", max_batches=1)
    # then the leg was recorded within the budget
    assert (result.claimed, result.succeeded) == (1, 1)
    assert len(_statements(queries)) <= LEG_BUDGET, "\n".join(_statements(queries))
