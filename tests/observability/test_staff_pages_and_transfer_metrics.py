"""A transfer's terminal state is counted once its step commits, and the staff transfer page shows the trace id
stored with the transfer's outbox row (docs/operations.md §10.3)."""
import pytest
from prometheus_client import REGISTRY

from outbox.models import OutboxMessage
from tests.fixtures.transfers import transfer_body
from transfers.models import Transfer

pytestmark = pytest.mark.django_db

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _count(outcome: str) -> float:
    return REGISTRY.get_sample_value("bank_transfers_terminal_total", {"outcome": outcome}) or 0.0


def test_completed_transfer_is_counted_once_with_its_latency(payer, payee, transfer_post, saga_drain, mock_core,
                                                             django_capture_on_commit_callbacks):
    # given an accepted transfer
    before = _count("completed")
    latency_before = REGISTRY.get_sample_value("bank_transfer_duration_seconds_count", {"outcome": "completed"}) or 0
    assert transfer_post(payer, transfer_body()).status_code == 202
    # when the saga runs to its end and its steps commit
    with django_capture_on_commit_callbacks(execute=True):
        saga_drain()
    # then one completed transfer is counted, with an accepted → terminal observation
    assert Transfer.objects.get().status == "completed"
    assert _count("completed") == before + 1
    assert REGISTRY.get_sample_value("bank_transfer_duration_seconds_count",
                                     {"outcome": "completed"}) == latency_before + 1


def test_staff_transfer_page_shows_the_trace_id_of_the_accepting_request(payer, payee, transfer_post, client,
                                                                         make_user):
    # given an accepted transfer whose first outbox row carries a trace context (as with tracing on)
    assert transfer_post(payer, transfer_body()).status_code == 202
    transfer = Transfer.objects.get()
    OutboxMessage.objects.filter(aggregate_id=transfer.aggregate_id).update(trace_context={"traceparent": TRACEPARENT})
    client.force_login(make_user("root902", is_staff=True, is_superuser=True))
    # when staff open the transfer
    page = client.get(f"/admin/transfers/transfer/{transfer.pk}/change/")
    # then its trace id is shown
    assert page.status_code == 200
    assert "4bf92f3577b34da6a3ce929d0e0e4736" in page.content.decode()


def test_staff_transfer_page_says_tracing_was_off_when_no_context_was_stored(payer, payee, transfer_post, client,
                                                                             make_user):
    assert transfer_post(payer, transfer_body()).status_code == 202
    transfer = Transfer.objects.get()
    client.force_login(make_user("root903", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/transfers/transfer/{transfer.pk}/change/")
    assert "tracing was off" in page.content.decode()
