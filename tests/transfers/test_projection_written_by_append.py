"""The `Transfer` row written by the append's own statement (PostgreSQL) or right after it (SQLite): the row each saga
step leaves equals a rebuild from the events, and a leg's start, which runs with no transaction open, is refused
when the transfer moved after it was read."""
from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from config.errors import ConcurrencyError
from outbox.eventstore.models import Event
from outbox.eventstore.services import NewEvent, TransactionRequiredError, event_append, projections_rebuild
from tests.fixtures.transfers import OPENING_YEN, core_ok, core_refused, transfer_body
from transfers import events as ev
from transfers.models import Transfer
from transfers.projections import PROJECTION_NAME
from transfers.services import transfer_leg_start

pytestmark = pytest.mark.django_db(transaction=True)


def _rows() -> dict[str, dict]:
    return {row.transaction_id: model_to_dict(row, exclude=["id"]) for row in Transfer.objects.all()}


def test_every_step_leaves_the_transfer_row_equal_to_its_rebuild(payer, payee, transfer_post, saga_drain, mock_core):
    # given a transfer that completed, one whose deposit was refused and compensated, and one rejected
    mock_core.script["deposit"] = [
        lambda **kwargs: core_ok("DEP", account_id=kwargs["account_id"], amount=kwargs["amount"]),
        core_refused(400, "Account is FROZEN")]
    for amount in (1_000, 2_000, OPENING_YEN - 1_000):  # the last exceeds what the first two left
        transfer_post(payer, transfer_body(amount))
    saga_drain()
    incremental = _rows()
    assert sorted(row["phase"] for row in incremental.values()) == ["COMPENSATED", "COMPLETED", "REJECTED"]
    # when the projection is rebuilt from the event log
    projections_rebuild(names=[PROJECTION_NAME])
    # then every row, times and positions included, is what the steps wrote
    assert _rows() == incremental
    for row in Transfer.objects.all():
        last = Event.objects.filter(aggregate_id=row.aggregate_id).order_by("-version").first()
        assert (row.version, row.last_event_position, row.updated_at) == (last.version, last.position,
                                                                          last.recorded_at)


def test_a_leg_start_is_refused_when_the_transfer_moved_after_its_read(payer, payee, transfer_post, mock_core):
    # given an accepted transfer, and a copy of its row read before its withdrawal started
    transfer_post(payer, transfer_body(5_000))
    stale = Transfer.objects.get()
    assert transfer_leg_start(transaction_id=stale.transaction_id, leg=ev.LEG_WITHDRAW, actor="system:relay")
    started = Transfer.objects.get()
    # when a start is appended again from the stale copy, outside any transaction
    with pytest.raises(ConcurrencyError):
        event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=stale.aggregate_id,
                     expected_version=stale.version, actor="system:relay", correlation_id=stale.transaction_id,
                     row_in_hand=stale, outside_transaction=True,
                     events=[NewEvent(type=ev.PROCESSING_STARTED, status=ev.STATUS_PROCESSING, leg=ev.LEG_WITHDRAW,
                                      data={"leg": ev.LEG_WITHDRAW})])
    # then nothing was written: one start event, and the row as the first start left it
    assert Event.objects.filter(aggregate_id=stale.aggregate_id, type=ev.PROCESSING_STARTED).count() == 1
    assert model_to_dict(Transfer.objects.get()) == model_to_dict(started)
    # and a start of a leg that already started is a no-op
    assert transfer_leg_start(transaction_id=stale.transaction_id, leg=ev.LEG_WITHDRAW, actor="system:relay") is False


@pytest.mark.postgres
def test_outside_a_transaction_only_a_one_statement_append_is_allowed(payer, payee, transfer_post, mock_core):
    # given an accepted transfer read outside any transaction
    transfer_post(payer, transfer_body(5_000))
    transfer = Transfer.objects.get()
    events_before = Event.objects.count()
    started = NewEvent(type=ev.PROCESSING_STARTED, status=ev.STATUS_PROCESSING, leg=ev.LEG_WITHDRAW,
                       data={"leg": ev.LEG_WITHDRAW})
    # when two events are appended outside a transaction (PostgreSQL would need two statements' worth of atomicity)
    with pytest.raises(TransactionRequiredError):
        event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=transfer.aggregate_id,
                     expected_version=transfer.version, actor="system:relay", correlation_id=transfer.transaction_id,
                     row_in_hand=transfer, outside_transaction=True, events=[started, started])
    # or without the row in hand, so the projection would have to read and write on its own
    with pytest.raises(TransactionRequiredError):
        event_append(aggregate_type=ev.AGGREGATE_TYPE, aggregate_id=transfer.aggregate_id,
                     expected_version=transfer.version, actor="system:relay", correlation_id=transfer.transaction_id,
                     outside_transaction=True, events=[started])
    # then it is refused before anything is written
    assert Event.objects.count() == events_before
