"""The bank's Prometheus metric families (prometheus-client, multi-process mode).

Every process records into its own memory-mapped files under PROMETHEUS_MULTIPROC_DIR (config/observability/
process.py); GET /metrics sums them (views.py) and adds the gauges read from the database at scrape time
(collectors.py). Names follow the Prometheus conventions: base units (`_seconds`), `_total` for counters, and
labels with a small fixed set of values: routes are URL patterns, never ids.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Request and delivery latencies: from a few milliseconds (an accepted transfer) to the core timeouts.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Accepted → terminal: milliseconds when core answers, minutes while it is down.
TRANSFER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Counter(
    "bank_http_requests_total", "HTTP requests answered, by URL pattern, method and status code.",
    ["route", "method", "status"])
HTTP_REQUEST_DURATION = Histogram(
    "bank_http_request_duration_seconds", "Time to answer an HTTP request, by URL pattern and method.",
    ["route", "method"], buckets=LATENCY_BUCKETS)

OUTBOX_DELIVERIES = Counter(
    "bank_outbox_deliveries_total",
    "Outbox deliveries settled by the relay, by message kind and outcome (success, retry, definite_refusal, "
    "ambiguous, dead_letter, deferred, discarded).",
    ["kind", "outcome"])
OUTBOX_DELIVERY_DURATION = Histogram(
    "bank_outbox_delivery_duration_seconds", "Time from the start of a delivery to its settled result, by kind.",
    ["kind"], buckets=LATENCY_BUCKETS)

CORE_CALLS = Counter(
    "bank_core_client_requests_total", "Calls to core banking, by route and outcome (success, definite, ambiguous).",
    ["route", "outcome"])
CORE_CALL_DURATION = Histogram(
    "bank_core_client_request_duration_seconds", "Duration of calls to core banking, by route.",
    ["route"], buckets=LATENCY_BUCKETS)
# One value per relay process; /metrics shows the most pessimistic live one (1 = some relay process has it open).
CORE_CIRCUIT_OPEN = Gauge(
    "bank_core_circuit_open", "1 while this relay process's core circuit breaker is open, else 0.",
    multiprocess_mode="livemax")
CORE_CIRCUIT_OPENINGS = Counter("bank_core_circuit_openings_total", "Times a relay process opened the core breaker.")

TRANSFERS_TERMINAL = Counter(
    "bank_transfers_terminal_total", "Transfers that reached a terminal state, by outcome "
    "(completed, failed, compensated, rejected).", ["outcome"])
TRANSFER_DURATION = Histogram(
    "bank_transfer_duration_seconds", "Time from an accepted transfer to its terminal state, by outcome.",
    ["outcome"], buckets=TRANSFER_BUCKETS)

RECONCILIATION_CHECKS = Counter(
    "bank_reconciliation_checks_total", "Balance reconciliations with core, by outcome (match, drift, skipped, "
    "unreachable); `drift` is a mismatch.", ["outcome"])
INVARIANT_CHECKS = Counter(
    "bank_invariant_checks_total", "Invariant checks run, by invariant code and result (ok, failed).",
    ["code", "result"])

# Outcome labels of OUTBOX_DELIVERIES, from the relay's settle result (outbox/relay.py).
DELIVERY_OUTCOME_LABELS = {"succeeded": "success", "retried": "retry", "failed": "definite_refusal",
                           "dead_lettered": "dead_letter", "deferred": "deferred", "discarded": "discarded"}
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def http_request_observe(*, route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request (unknown methods are grouped as `other`, so labels stay bounded)."""
    method = method if method in HTTP_METHODS else "other"
    HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    HTTP_REQUEST_DURATION.labels(route=route, method=method).observe(seconds)


def outbox_delivery_observe(*, kind: str, settle_result: str, ambiguous: bool, seconds: float) -> None:
    """Count one settled delivery; a retry after an answerless or unclassifiable call counts as `ambiguous`."""
    outcome = DELIVERY_OUTCOME_LABELS.get(settle_result, settle_result)
    if outcome == "retry" and ambiguous:
        outcome = "ambiguous"
    OUTBOX_DELIVERIES.labels(kind=kind, outcome=outcome).inc()
    if outcome not in ("deferred", "discarded"):
        OUTBOX_DELIVERY_DURATION.labels(kind=kind).observe(seconds)


def core_call_observe(*, route: str, outcome: str, seconds: float) -> None:
    CORE_CALLS.labels(route=route, outcome=outcome).inc()
    CORE_CALL_DURATION.labels(route=route).observe(seconds)


def core_circuit_set(*, is_open: bool, opened: bool = False) -> None:
    CORE_CIRCUIT_OPEN.set(1 if is_open else 0)
    if opened:
        CORE_CIRCUIT_OPENINGS.inc()


def transfer_terminal_observe(*, outcome: str, seconds: float) -> None:
    TRANSFERS_TERMINAL.labels(outcome=outcome).inc()
    TRANSFER_DURATION.labels(outcome=outcome).observe(max(seconds, 0.0))


def reconciliation_observe(*, outcome: str) -> None:
    RECONCILIATION_CHECKS.labels(outcome=outcome).inc()


def invariant_check_observe(*, code: str, ok: bool) -> None:
    INVARIANT_CHECKS.labels(code=code, result="ok" if ok else "failed").inc()


# Known label values start at 0, so the families are on /metrics from the first scrape and rate()/increase() in
# the alert rules see a series before the first event (Prometheus's advice for labels known in advance).
for _outcome in ("completed", "failed", "compensated", "rejected"):
    TRANSFERS_TERMINAL.labels(outcome=_outcome)
    TRANSFER_DURATION.labels(outcome=_outcome)
for _outcome in ("match", "drift", "skipped", "unreachable"):
    RECONCILIATION_CHECKS.labels(outcome=_outcome)
