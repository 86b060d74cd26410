"""The observability of a running stack, end to end (the `make run` stack on free 127.0.0.1 ports, configured by
tests/observability/live_stack.py): after one transfer, both /metrics answers carry the
families operators graph, the transfer is one trace from the API request to the core mock, the recording step
and the mail, and its JSON log lines all carry that trace id. Then a real Prometheus (Debian's `prometheus`
package) scrapes both endpoints with the repository's alert rules, and with the core mock `down` the outbox
backlog-age alert goes pending (then firing) in Prometheus's own API."""
from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.stack import free_port
from tests.observability.live_stack import METRICS_TOKEN, ROOT, LiveStack, live_stack_start

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "bank-overview.json"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

# The families of the issue: HTTP, outbox backlog, relay deliveries, core client, breaker, transfers,
# applications, reconciliation, invariants.
WEB_FAMILIES = (
    "bank_http_requests_total", "bank_http_request_duration_seconds_bucket", "bank_outbox_messages",
    "bank_outbox_oldest_pending_age_seconds", "bank_outbox_deliveries_total",
    "bank_outbox_delivery_duration_seconds_bucket",
    "bank_core_client_requests_total", "bank_core_client_request_duration_seconds_bucket", "bank_core_circuit_open",
    "bank_transfers_terminal_total", "bank_transfer_duration_seconds_bucket", "bank_applications",
    "bank_reconciliation_checks_total", "bank_invariant_checks_total",
)
METRIC_NAME = re.compile(r"\b(bank_[a-z_]+)")
APPLICATION_BODY = {
    "customerInfo": {"fullName": "山田 太郎", "email": "taro@example.com", "phoneNumber": "090-1234-5678",
                     "birthDate": "1990-01-01", "idType": "drivingLicense", "idNumber": "123456789012"},
    "address": {"postalCode": "100-0001", "prefecture": "東京都", "city": "千代田区",
                "streetAddress": "東京都千代田区千代田1-1"},
    "type": "普通預金",
    "initialBalance": 0,
}


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory):
    stack = live_stack_start(tmp_path_factory.mktemp("observability"))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def completed_transfer(live_stack: LiveStack) -> str:
    token = live_stack.login()
    transaction_id = live_stack.transfer(token)
    live_stack.transfer_wait(token, transaction_id)
    return transaction_id


def _sample_names(exposition: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line and not line.startswith("#")}


def _sample(exposition: str, name: str, **labels: str) -> float | None:
    for line in exposition.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{key}="{value}"' in line for key, value in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_show_every_family_after_one_transfer(live_stack, completed_transfer):
    # given one completed transfer, a reconciliation and an invariant check (each a separate process)
    assert live_stack.manage("reconcile").returncode in (0, 1)
    assert live_stack.manage("check_invariants").returncode in (0, 1)
    # when both endpoints are scraped with the bearer token
    web = live_stack.metrics(live_stack.web_url)
    core = live_stack.metrics(live_stack.core_url)
    # then the web app's answer sums every bank process: the API request (gunicorn), the deliveries and the core
    # calls (Celery worker), the terminal transfer and its latency, the commands' counters
    names = _sample_names(web)
    assert not [family for family in WEB_FAMILIES if family not in names], names
    assert _sample(web, "bank_http_requests_total", route="v1/api/transfer", method="POST", status="202") >= 1
    assert _sample(web, "bank_outbox_deliveries_total", kind="withdraw", outcome="success") >= 1
    assert _sample(web, "bank_outbox_deliveries_total", kind="deposit", outcome="success") >= 1
    assert _sample(web, "bank_core_client_requests_total", route="POST /api/transactions/withdraw",
                   outcome="success") >= 1
    assert _sample(web, "bank_transfers_terminal_total", outcome="completed") >= 1
    assert _sample(web, "bank_transfer_duration_seconds_count", outcome="completed") >= 1
    assert _sample(web, "bank_outbox_messages", queue="core", state="dead") == 0
    assert _sample(web, "bank_invariant_checks_total", result="ok") >= 1
    # and no label carries an id: the transaction id appears nowhere in the exposition
    assert completed_transfer not in web
    # and the core mock's answer has its own request counts, the postings it handled
    assert _sample(core, "bank_http_requests_total", route="api/transactions/withdraw", method="POST",
                   status="200") >= 1
    assert "v1/api/transfer" not in core
    assert "bank_core_mock_down 0.0" in core
    # and /metrics refuses a scrape without the token
    assert httpx.get(f"{live_stack.web_url}/metrics", timeout=10).status_code == 403
    assert httpx.get(f"{live_stack.core_url}/metrics", headers={"Authorization": "Bearer wrong"},
                     timeout=10).status_code == 403
    # and every metric the Grafana dashboard plots is one /metrics exposes
    dashboard = json.loads(DASHBOARD.read_text())
    plotted = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in METRIC_NAME.findall(target["expr"])}
    missing = {name for name in plotted if name not in names and f"{name}_bucket" not in names}
    assert plotted and not missing, missing


def _trace_id_of(stack: LiveStack, transaction_id: str) -> str:
    records = [record for record in stack.log_records() if record.get("transaction_id") == transaction_id]
    trace_ids = {record.get("trace_id") for record in records}
    assert len(trace_ids) == 1 and None not in trace_ids, records
    return trace_ids.pop()


def test_one_transfer_is_one_trace_and_its_log_lines_carry_it(live_stack, completed_transfer):
    # given the completed transfer; spans are exported in batches, so wait for the mail's delivery span
    deadline = time.monotonic() + 30
    trace_id = _trace_id_of(live_stack, completed_transfer)
    while time.monotonic() < deadline:
        spans = [span for span in live_stack.spans() if span["context"]["trace_id"] == f"0x{trace_id}"]
        if any(span["name"] == "outbox deliver notify_transfer_completed" for span in spans) and \
                sum(1 for span in spans if span["resource"]["attributes"]["service.name"] == "bank-core") >= 2:
            break
        time.sleep(0.5)
    # then one trace holds the API request, the Celery task, both legs' deliveries, their core calls and the
    # core mock's handling of them, the recording steps and the mail
    by_service = {}
    for span in spans:
        by_service.setdefault(span["resource"]["attributes"]["service.name"], []).append(span)
    names = {span["name"] for span in spans}
    assert {"POST v1/api/transfer", "run/outbox.relay_drain", "outbox deliver withdraw", "outbox deliver deposit",
            "outbox settle", "outbox deliver notify_transfer_completed"} <= names, names
    assert any(span["kind"] == "SpanKind.CLIENT" for span in by_service["bank"])
    assert len([span for span in by_service.get("bank-core", []) if span["kind"] == "SpanKind.SERVER"]) >= 2
    (request_span,) = [span for span in spans if span["name"] == "POST v1/api/transfer"]
    assert request_span["attributes"]["bank.transaction_id"] == completed_transfer
    # and every JSON log line about the transfer (web request, relay deliveries, mail) carries that trace id,
    # as do the core mock's request lines for the two legs
    lines = [record for record in live_stack.log_records() if record.get("trace_id") == trace_id]
    loggers = {record["logger"] for record in lines}
    assert {"bank.http", "bank.transfers", "bank.outbox.relay", "bank.outbox.mail"} <= loggers, loggers
    assert {record["outbox_key"] for record in lines if "outbox_key" in record} >= {
        f"withdraw-{completed_transfer}", f"deposit-{completed_transfer}"}
    core_lines = [record for record in lines if record.get("http_route", "").startswith("api/transactions/")]
    assert len(core_lines) >= 2, lines


def test_one_application_is_one_trace_from_submission_to_the_completion_mail(live_stack):
    # given an application submitted by a customer, then approved by staff in another request
    submitted = httpx.post(f"{live_stack.web_url}/v1/api/accounts", json=APPLICATION_BODY, timeout=10)
    assert submitted.status_code in (200, 201, 202), submitted.text
    application_id, transaction_id = submitted.json()["id"], submitted.json()["transactionId"]
    staff_token = live_stack.login("staff", live_stack.staff_password)
    approved = httpx.post(f"{live_stack.web_url}/v1/api/accounts/confirm/{transaction_id}", json={"comment": "ok"},
                          headers={"Authorization": f"Bearer {staff_token}"}, timeout=10)
    assert approved.status_code == 200, approved.text
    # when provisioning and both mails are done (their spans exported)
    submit_lines = [record for record in live_stack.log_records() if record.get("application_id") == application_id
                    and record.get("http_route") == "v1/api/accounts"]
    assert len(submit_lines) == 1 and submit_lines[0].get("trace_id"), submit_lines
    trace_id = submit_lines[0]["trace_id"]
    wanted = {"outbox deliver notify_receipt", "outbox deliver create_account", "outbox deliver notify_completion"}
    deadline = time.monotonic() + 60
    names: set[str] = set()
    while time.monotonic() < deadline and not wanted <= names:
        spans = [span for span in live_stack.spans() if span["context"]["trace_id"] == f"0x{trace_id}"]
        names = {span["name"] for span in spans}
        time.sleep(0.5)
    # then the submission's trace holds the receipt mail, the provisioning calls (and the core mock's handling of
    # them) made after the approval, and the completion mail; the approval request is linked to it
    assert wanted <= names, names
    assert any(span["resource"]["attributes"]["service.name"] == "bank-core" for span in spans)
    (provisioning,) = [span for span in spans if span["name"] == "outbox deliver create_account"][:1]
    assert len(provisioning["links"]) >= 1
    # and the relay's log lines about the application carry that trace id
    relay_lines = [record for record in live_stack.log_records() if record.get("application_id") == application_id
                   and record["logger"] == "bank.outbox.relay"]
    assert relay_lines and {record["trace_id"] for record in relay_lines} == {trace_id}, relay_lines


def _prometheus_get(base: str, path: str) -> dict:
    response = httpx.get(f"{base}{path}", timeout=10)
    response.raise_for_status()
    return response.json()["data"]


@pytest.mark.skipif(not Path(PROMETHEUS).exists() or not shutil.which("promtool"),
                    reason="needs Debian's prometheus package (prometheus and promtool; .ci/run installs it)")
def test_real_prometheus_scrapes_both_endpoints_and_fires_the_backlog_alert_when_core_is_down(
        live_stack, completed_transfer, tmp_path):
    # given the rules pass promtool, and a Prometheus scraping both endpoints every second with the token
    check = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    config = tmp_path / "prometheus.yml"
    jobs = [{"job_name": job, "scrape_interval": "1s", "metrics_path": "/metrics",
             "authorization": {"type": "Bearer", "credentials": METRICS_TOKEN},
             "static_configs": [{"targets": [url.removeprefix("http://")]}]}
            for job, url in (("bank-web", live_stack.web_url), ("bank-core", live_stack.core_url))]
    config.write_text(json.dumps({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                                  "rule_files": [str(RULES)], "scrape_configs": jobs}))  # JSON is valid YAML
    log = (tmp_path / "prometheus.log").open("w")
    prometheus = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        targets: list = []
        while time.monotonic() < deadline:
            assert prometheus.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
            try:
                targets = _prometheus_get(base, "/api/v1/targets")["activeTargets"]
                if len(targets) == 2 and all(target["health"] == "up" for target in targets):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        # then both endpoints are scraped and parsed
        assert sorted(target["labels"]["job"] for target in targets) == ["bank-core", "bank-web"], targets
        assert all(target["health"] == "up" for target in targets), targets
        assert {rule["name"] for group in _prometheus_get(base, "/api/v1/rules")["groups"]
                for rule in group["rules"]} >= {"BankOutboxBacklogOld", "BankOutboxDeadLetter", "BankCoreCircuitOpen",
                                                "BankReconciliationMismatch", "BankInvariantFailure",
                                                "BankWebErrorRatio"}
        # when core banking is down and a customer sends a transfer (accepted; its withdrawal waits)
        live_stack.core_faults.set(group="all", mode="down")
        assert "bank_core_mock_down 1.0" in live_stack.metrics(live_stack.core_url)
        token = live_stack.login()
        live_stack.transfer(token)
        # then, once the row has waited past the rule's 60 s threshold, the alert is pending (firing a minute later)
        deadline = time.monotonic() + 180
        state = None
        while time.monotonic() < deadline and state is None:
            for alert in _prometheus_get(base, "/api/v1/alerts")["alerts"]:
                if alert["labels"]["alertname"] == "BankOutboxBacklogOld" and alert["labels"]["queue"] == "core":
                    state = alert["state"]
            time.sleep(2)
        assert state in ("pending", "firing"), _prometheus_get(base, "/api/v1/alerts")
    finally:
        live_stack.core_faults.set(group="all", mode="up")
        prometheus.send_signal(signal.SIGTERM)
        try:
            prometheus.wait(timeout=30)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait(timeout=10)
        log.close()
