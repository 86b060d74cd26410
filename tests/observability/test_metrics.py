"""The bank's metric families as each instrumented step records them (in-process; multi-process files of the
test run's own var dir), and GET /metrics: access rules, bounded labels, the database gauges."""
from __future__ import annotations

import pytest
from django.test import RequestFactory
from prometheus_client import REGISTRY

from accounts.selectors import application_count_by_status
from config.observability.views import core_metrics_view
from corebanking_mock.metrics import CoreFaultCollector
from outbox import relay
from outbox.core_banking import breaker
from outbox.core_banking import client as core_client
from outbox.models import OutboxMessage, OutboxStatus
from outbox.registry import Delivery
from outbox.selectors import outbox_backlog_by_queue
from tests.fixtures.outbox import ScriptedHandler, enqueue_messages
from tests.fixtures.stack import free_port


def _value(name: str, **labels: str) -> float:
    """This process's current value of one sample (0 when it was never recorded)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _exposition_value(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


# --- GET /metrics ----------------------------------------------------------------------------------


def test_metrics_answers_a_loopback_client_when_no_token_is_set_and_debug_is_on(db, client, settings):
    # given no token and DEBUG on (the `make run` default)
    settings.METRICS_BEARER_TOKEN, settings.DEBUG = "", True
    # when a local client scrapes
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    # then it gets the Prometheus text format, the database gauges included
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "bank_metrics_database_up 1.0" in response.content.decode()


def test_metrics_refuses_a_remote_client_when_no_token_is_set(db, client, settings):
    settings.METRICS_BEARER_TOKEN, settings.DEBUG = "", True
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403
    assert b"bank_" not in response.content


def test_metrics_refuses_even_loopback_when_no_token_is_set_and_debug_is_off(db, client, settings):
    # given a production-like configuration without a token (a local reverse proxy makes every client loopback)
    settings.METRICS_BEARER_TOKEN, settings.DEBUG = "", False
    # then nobody gets in
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_metrics_needs_the_bearer_token_when_one_is_set(db, client, settings):
    # given a token
    settings.METRICS_BEARER_TOKEN = "scrape-secret-123"
    # then loopback alone is not enough, a wrong token is refused, the right one is let in (from anywhere)
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-secret").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic scrape-secret-123").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3",
                      HTTP_AUTHORIZATION="Bearer scrape-secret-123").status_code == 200


def test_requests_are_counted_by_url_pattern_never_by_id_when_a_path_carries_one(db, client, settings):
    # given a request to a path with a transaction id in it
    settings.METRICS_BEARER_TOKEN, settings.DEBUG = "", True
    route = "v1/api/transfers/<str:transaction_id>"
    before = _value("bank_http_requests_total", route=route, method="GET", status="401")
    client.get("/v1/api/transfers/0123456789abcdef0123456789abcdef")
    # when /metrics is scraped
    text = client.get("/metrics").content.decode()
    # then the request is counted under its URL pattern and the id appears nowhere
    assert _exposition_value(text, "bank_http_requests_total", route=route, method="GET", status="401") == before + 1
    assert "0123456789abcdef0123456789abcdef" not in text
    assert _value("bank_http_request_duration_seconds_count", route=route, method="GET") >= 1


def test_an_unknown_method_is_counted_as_other_when_a_client_invents_one(db, client):
    before = _value("bank_http_requests_total", route="healthz", method="other", status="405")
    client.generic("BREW", "/healthz")
    assert _value("bank_http_requests_total", route="healthz", method="other", status="405") == before + 1


def test_outbox_gauges_count_open_rows_by_queue_and_state_when_scraped(db, client, settings):
    # given one pending, one in-flight and one dead row on `core`, one pending on `notify`
    settings.METRICS_BEARER_TOKEN, settings.DEBUG = "", True
    rows = [OutboxMessage.objects.create(key=f"metrics-{status}-{queue}", kind="withdraw", queue=queue,
                                         aggregate_id=f"transfer-m{index}", max_attempts=10, status=status)
            for index, (queue, status) in enumerate([("core", OutboxStatus.PENDING), ("core", OutboxStatus.PROCESSING),
                                                     ("core", OutboxStatus.FAILED), ("notify", OutboxStatus.PENDING),
                                                     ("core", OutboxStatus.COMPLETED)])]
    assert len(rows) == 5
    # when the backlog is read and /metrics scraped
    backlog = {queue.queue: queue for queue in outbox_backlog_by_queue()}
    text = client.get("/metrics").content.decode()
    # then completed rows are not counted, each open state is
    assert (backlog["core"].pending, backlog["core"].in_flight, backlog["core"].dead) == (1, 1, 1)
    assert (backlog["notify"].pending, backlog["notify"].in_flight, backlog["notify"].dead) == (1, 0, 0)
    assert backlog["core"].oldest_pending_age_seconds >= 0
    assert _exposition_value(text, "bank_outbox_messages", queue="core", state="dead") == 1
    assert _exposition_value(text, "bank_outbox_messages", queue="core", state="in_flight") == 1
    assert _exposition_value(text, "bank_outbox_oldest_pending_age_seconds", queue="notify") is not None


def test_applications_gauge_lists_every_status_when_there_are_none(db):
    counts = application_count_by_status()
    assert set(counts) == {"PENDING", "CONFIRMED", "COMPLETED", "REJECTED"}
    assert set(counts.values()) == {0}


@pytest.mark.django_db(databases=["default", "core"])
def test_core_mock_metrics_show_its_fault_switch_and_no_bank_database_gauges(settings):
    # given the core mock's /metrics with its fault gauge, and its fault switch up
    settings.METRICS_BEARER_TOKEN, settings.DEBUG = "", True
    view = core_metrics_view(collectors=[CoreFaultCollector()])
    request = RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1")
    # when it is scraped
    text = view(request).content.decode()
    # then it says the mock is up, and carries none of the bank's database gauges
    assert "bank_core_mock_down 0.0" in text
    assert "bank_outbox_messages" not in text


# --- relay, core client, breaker ---------------------------------------------------------------------


@pytest.mark.parametrize("outcomes, expected", [
    ([Delivery.success(http_status=200)], "success"),
    ([Delivery.retry(error="HTTP 500", http_status=500)], "retry"),
    ([Delivery.retry(error="timeout (ReadTimeout)", ambiguous=True)], "ambiguous"),
    ([Delivery.failed(error="Insufficient balance", http_status=400)], "definite_refusal"),
    ([Delivery.failed(error="refused", http_status=409, dead_letter=True)], "dead_letter"),
])
def test_each_settled_delivery_is_counted_by_kind_and_outcome(db, register_outbox_handler, outcomes, expected):
    # given a message whose delivery has the scripted outcome
    kind = f"metrics_{expected}"
    register_outbox_handler(kind, ScriptedHandler(outcomes=outcomes, queue="notify", max_attempts=3))
    enqueue_messages(kind=kind, count=1)
    before = _value("bank_outbox_deliveries_total", kind=kind, outcome=expected)
    # when the relay delivers it
    relay.drain(queue="notify", worker_id="metrics-test")
    # then one delivery with that outcome is counted, with its duration
    assert _value("bank_outbox_deliveries_total", kind=kind, outcome=expected) == before + 1
    assert _value("bank_outbox_delivery_duration_seconds_count", kind=kind) >= 1


def test_exhausted_retries_count_as_dead_letter(db, register_outbox_handler, settings):
    # given a message with one attempt whose delivery keeps failing
    register_outbox_handler("metrics_exhausted", ScriptedHandler(
        outcomes=[Delivery.retry(error="HTTP 500", http_status=500)], queue="notify", max_attempts=1))
    enqueue_messages(kind="metrics_exhausted", count=1)
    # when the relay runs out of attempts
    relay.drain(queue="notify", worker_id="metrics-test")
    # then it counts as a dead letter, not a retry
    assert _value("bank_outbox_deliveries_total", kind="metrics_exhausted", outcome="dead_letter") == 1
    assert _value("bank_outbox_deliveries_total", kind="metrics_exhausted", outcome="retry") == 0


def test_core_calls_are_counted_by_route_pattern_and_outcome_when_core_is_unreachable(settings):
    # given a core URL nobody listens on
    settings.CORE_BANKING_URL = f"http://127.0.0.1:{free_port()}"
    route = "GET /api/accounts/{accountId}"
    before = _value("bank_core_client_requests_total", route=route, outcome="ambiguous")
    # when the client asks for an account
    result = core_client.account_get(account_id="0011234567")
    # then the call is ambiguous and counted under the route pattern, not the account id
    assert result.outcome is core_client.Outcome.AMBIGUOUS
    assert _value("bank_core_client_requests_total", route=route, outcome="ambiguous") == before + 1
    assert _value("bank_core_client_requests_total", route="GET /api/accounts/0011234567", outcome="ambiguous") == 0


def test_breaker_gauge_follows_the_circuit_when_it_opens_and_closes():
    # given a breaker that opens after two unanswered deliveries
    healthy = [True]
    circuit = breaker.CircuitBreaker(failures_to_open=2, open_seconds=0.0, probe=lambda: healthy.pop(0),
                                     on_recovery=lambda: None)
    openings = _value("bank_core_circuit_openings_total")
    # when it opens
    for _ in range(2):
        circuit.record(Delivery.retry(error="timeout", ambiguous=True))
    # then the gauge says open and the opening is counted
    assert _value("bank_core_circuit_open") == 1
    assert _value("bank_core_circuit_openings_total") == openings + 1
    # when the open period is over and the probe finds core healthy
    assert circuit.wait_seconds() == 0.0
    # then the gauge says closed
    assert _value("bank_core_circuit_open") == 0
