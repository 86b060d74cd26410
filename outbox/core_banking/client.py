"""The one way into the core-banking system: HTTP calls with outcome classification (flows.md R20, R23).

Every function makes exactly one request (no retries: retrying belongs to the outbox relay) and returns a
`CoreResult` whose `outcome` tells the caller what it may conclude:

- SUCCESS: 2xx with a JSON object body: the call took effect (or its stored effect was replayed);
- DEFINITE: 400/404/409/422 with the core's JSON error body: a business answer, retrying cannot change it;
- AMBIGUOUS: anything else (timeout, connection error, 5xx, 429, 401, a non-JSON answer, or a 404 for an
  unknown *route*, which means a wrong base URL rather than an unknown account): the effect may or may not
  have happened; look the key up (`idempotency_lookup`) or retry with the same `Idempotency-Key`.

One pooled `httpx.Client` per process (re-created after a fork). Base URL, timeouts, the API key and the wire
codec are read from settings on every call. The API key is sent as `X-API-Key` and never logged. The codec
(CORE_BANKING_WIRE_CODEC, default wire_v1.py) maps the bank's field names to the core version's and back, so
callers read the same `CoreResult` bodies whatever version of the core answers.
"""
from __future__ import annotations

import datetime as dt
import enum
import importlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from config.observability import metrics

logger = logging.getLogger("bank.core_client")

DEFINITE_STATUSES = frozenset({400, 404, 409, 422})
ROUTE_NOT_FOUND_ERROR = "Endpoint not found"
REPLAYED_HEADER = "Idempotent-Replayed"
DEFAULT_WIRE_CODEC = "outbox.core_banking.wire_v1"


class Outcome(enum.Enum):
    """What a caller may conclude from one core call (R23)."""

    SUCCESS = "success"
    DEFINITE = "definite"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class CoreResult:
    """The result of one core call: outcome class, HTTP status (None without an answer), JSON body, error text."""

    outcome: Outcome
    http_status: int | None
    body: dict[str, Any] | None
    error: str
    replayed: bool
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCESS


_client: httpx.Client | None = None
_client_pid: int | None = None
_client_lock = threading.Lock()


def _http_client() -> httpx.Client:
    """The process's pooled client, created lazily and again in a forked child (sockets are not shared)."""
    global _client, _client_pid
    pid = os.getpid()
    if _client is not None and _client_pid == pid:
        return _client
    with _client_lock:
        if _client is None or _client_pid != pid:
            # After a fork the parent's client is dropped, not closed: its sockets belong to the parent.
            _client = httpx.Client(trust_env=False, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))
            _client_pid = pid
        return _client


def close_client() -> None:
    """Close this process's pooled client (worker shutdown, tests); the next call creates a new one."""
    global _client, _client_pid
    with _client_lock:
        if _client is not None and _client_pid == os.getpid():
            _client.close()
        _client, _client_pid = None, None


def classify(*, http_status: int, body: dict[str, Any] | None) -> Outcome:
    """What an answer lets the caller conclude: 2xx took effect; 400/404/409/422 with the core's JSON error body is a
    definite business answer; anything else is ambiguous (look the key up or retry with it), R23."""
    if 200 <= http_status < 300:
        return Outcome.SUCCESS if body is not None else Outcome.AMBIGUOUS
    if http_status in DEFINITE_STATUSES and body is not None and isinstance(body.get("error"), str):
        if http_status == 404 and body["error"] == ROUTE_NOT_FOUND_ERROR:
            return Outcome.AMBIGUOUS  # the route is unknown (wrong URL or version), not the resource
        return Outcome.DEFINITE
    return Outcome.AMBIGUOUS


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        parsed = response.json()
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _call(method: str, path: str, *, json_body: Mapping[str, Any] | None = None,
          idempotency_key: str | None = None, params: Mapping[str, str] | None = None,
          route: str | None = None) -> CoreResult:
    """Send one request to core and classify the answer; transport failures become AMBIGUOUS results.

    `route` is the path pattern the call is counted under (`/api/accounts/{accountId}`; default: `path`),
    so no id becomes a metric label."""
    result = _request(method, path, json_body=json_body, idempotency_key=idempotency_key, params=params)
    metrics.core_call_observe(route=f"{method} {route or path}", outcome=result.outcome.value,
                              seconds=result.elapsed_ms / 1000)
    return result


def _wire_codec() -> Any:
    """The module of the configured core wire version (request_body, answer_body); v1 when none is configured."""
    return importlib.import_module(getattr(settings, "CORE_BANKING_WIRE_CODEC", DEFAULT_WIRE_CODEC))


def _request(method: str, path: str, *, json_body: Mapping[str, Any] | None,
             idempotency_key: str | None, params: Mapping[str, str] | None) -> CoreResult:
    codec = _wire_codec()
    if json_body is not None:
        json_body = codec.request_body(dict(json_body))
    headers = {"X-API-Key": settings.CORE_BANKING_API_KEY, "Accept": "application/json"}
    if idempotency_key is not None:
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty")
        headers["Idempotency-Key"] = idempotency_key
    url = settings.CORE_BANKING_URL.rstrip("/") + path
    timeout = httpx.Timeout(connect=settings.CORE_BANKING_CONNECT_TIMEOUT, read=settings.CORE_BANKING_READ_TIMEOUT,
                            write=settings.CORE_BANKING_READ_TIMEOUT, pool=settings.CORE_BANKING_CONNECT_TIMEOUT)
    started = time.perf_counter()
    try:
        response = _http_client().request(method, url, json=json_body, headers=headers, timeout=timeout,
                                          params=params)
    except httpx.TimeoutException as exc:
        return _transport_failure(method, path, started, f"timeout ({type(exc).__name__})")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return _transport_failure(method, path, started, f"transport error ({type(exc).__name__}: {exc})")
    elapsed_ms = (time.perf_counter() - started) * 1000
    body = _json_object(response)
    if body is not None:
        body = codec.answer_body(body)
    outcome = classify(http_status=response.status_code, body=body)
    error = ""
    if outcome is not Outcome.SUCCESS:
        error = body["error"] if body is not None and isinstance(body.get("error"), str) else \
            f"HTTP {response.status_code}"
    replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
    logger.info("core %s %s -> %s %s in %.1f ms%s", method, path, response.status_code, outcome.value, elapsed_ms,
                " (replayed)" if replayed else "")
    return CoreResult(outcome=outcome, http_status=response.status_code, body=body, error=error, replayed=replayed,
                      elapsed_ms=elapsed_ms)


def _transport_failure(method: str, path: str, started: float, error: str) -> CoreResult:
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.warning("core %s %s -> no answer (%s) after %.1f ms", method, path, error, elapsed_ms)
    return CoreResult(outcome=Outcome.AMBIGUOUS, http_status=None, body=None, error=error, replayed=False,
                      elapsed_ms=elapsed_ms)


def _segment(value: str) -> str:
    return quote(value, safe="")


# --- customers and accounts ------------------------------------------------------------------------


def customer_create(*, customer_info: Mapping[str, Any], idempotency_key: str) -> CoreResult:
    """POST /api/customers `{"customerInfo": ...}`; 201 body has `customerId`. Key: `customer-{applicationId}`."""
    return _call("POST", "/api/customers", json_body={"customerInfo": dict(customer_info)},
                 idempotency_key=idempotency_key)


def customer_get(*, customer_id: str) -> CoreResult:
    """GET /api/customers/{customerId}; 404 (DEFINITE) when unknown."""
    return _call("GET", f"/api/customers/{_segment(customer_id)}", route="/api/customers/{customerId}")


def account_create(*, customer_id: str, account_type: str, idempotency_key: str) -> CoreResult:
    """POST /api/accounts (`SAVINGS` | `CHECKING`); 201 body has `accountId`, `accountNumber`, `balance`.

    Key: `account-{applicationId}`. The core credits its configured opening balance.
    """
    return _call("POST", "/api/accounts", idempotency_key=idempotency_key, json_body={
        "customerId": customer_id, "accountType": account_type, "initialBalance": 0, "currency": "JPY"})


def account_get(*, account_id: str) -> CoreResult:
    """GET /api/accounts/{accountId}: balance and status; 404 (DEFINITE) when unknown."""
    return _call("GET", f"/api/accounts/{_segment(account_id)}", route="/api/accounts/{accountId}")


def account_transactions(*, account_id: str) -> CoreResult:
    """GET /api/accounts/{accountId}/transactions: newest 50 postings under `transactions`."""
    return _call("GET", f"/api/accounts/{_segment(account_id)}/transactions",
                 route="/api/accounts/{accountId}/transactions")


def account_postings_after(*, account_id: str, since: dt.datetime, after_id: str = "", limit: int = 500) -> CoreResult:
    """The account's postings after the cursor (`since`, `after_id`), oldest first, at most `limit`: the feed
    the read-model sync pages through (`transactions` in the body; an empty list at the end)."""
    params = {"since": since.isoformat(), "afterId": after_id, "limit": str(limit)}
    return _call("GET", f"/api/accounts/{_segment(account_id)}/transactions", params=params,
                 route="/api/accounts/{accountId}/transactions")


# --- money movement ----------------------------------------------------------------------------------


def withdraw(*, account_id: str, amount: int, description: str, target_account_id: str, transfer_id: str,
             idempotency_key: str) -> CoreResult:
    """POST /api/transactions/withdraw (TRANSFER_WITHDRAWAL) of `amount` yen; key `withdraw-{transactionId}`.

    DEFINITE refusals: 400 insufficient balance, 404 unknown account, 409 account not active, 422 key reused,
    409 key voided.
    """
    return _call("POST", "/api/transactions/withdraw", idempotency_key=idempotency_key, json_body={
        "accountId": account_id, "amount": amount, "description": description,
        "transactionType": "TRANSFER_WITHDRAWAL", "targetAccountId": target_account_id, "transferId": transfer_id})


def deposit(*, account_id: str, amount: int, description: str, source_account_id: str, transfer_id: str,
            idempotency_key: str, transaction_type: str = "TRANSFER_DEPOSIT") -> CoreResult:
    """POST /api/transactions/deposit of `amount` yen; key `deposit-{transactionId}`.

    A compensating refund is a deposit to the source with `transaction_type="TRANSFER_REFUND"` and key
    `refund-{transactionId}`. DEFINITE refusals: 404 unknown account, 409 account not active or key voided.
    """
    return _call("POST", "/api/transactions/deposit", idempotency_key=idempotency_key, json_body={
        "accountId": account_id, "amount": amount, "description": description, "transactionType": transaction_type,
        "sourceAccountId": source_account_id, "transferId": transfer_id})


# --- idempotency (R22) and health (R18) ---------------------------------------------------------------


def idempotency_lookup(*, key: str) -> CoreResult:
    """GET /api/idempotency/{key}: SUCCESS with `state` and the stored `statusCode`/`response`; 404 if never seen."""
    return _call("GET", f"/api/idempotency/{_segment(key)}", route="/api/idempotency/{key}")


def idempotency_void(*, key: str) -> CoreResult:
    """POST /api/idempotency/{key}/void: SUCCESS when voided (now or before); 409 DEFINITE with the stored answer
    under `response` when the key was already applied."""
    return _call("POST", f"/api/idempotency/{_segment(key)}/void", route="/api/idempotency/{key}/void")


def health() -> CoreResult:
    """GET /core/health: SUCCESS while core is up, AMBIGUOUS while down or unreachable (circuit-breaker probe)."""
    return _call("GET", "/core/health")
