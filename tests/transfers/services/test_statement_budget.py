"""How many SQL statements one transfer costs the bank database, counted, not timed.

Every statement is a round trip to the database while the step holds its row locks, so these budgets keep the hot
path from growing unnoticed. They count everything the connection sends, BEGIN/COMMIT and savepoints included. The
goals of the lean-pipeline work were 8 for accepting and 10 per leg; docs/performance.md lists each statement.
"""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox import relay
from tests.fixtures.transfers import transfer_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases="__all__")]

# Today's counts on PostgreSQL (they were 15 and 36 before the one-statement appends, inserts and claims, before the
# daily total moved onto the locked source row, and before each append wrote its projection row itself).
# Accept: the login-session check, BEGIN, the payer locked with the payee read, the hold, the withdrawal's outbox
# row, the events with the new transfer row, COMMIT.
ACCEPT_BUDGET = 7
# Leg: the claim (1); the start, outside any transaction: the transfer read, then its event with the projection row
# (2); the settle: BEGIN, the outbox row settled with its attempt, the transfer locked, the posting with the account
# row, the next outbox row, the events with the projection row, COMMIT (7).
LEG_BUDGET = 10


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
