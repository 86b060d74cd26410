"""Hostile input classes on every JSON route of the bank API and of the core mock: each is refused with a 4xx
in the route's error-body family, and nothing is written (bank and core balances, postings, transfers,
applications, events, outbox and idempotency rows are counted before and after).

The bank routes come from the OpenAPI schema (the same one tests/test_openapi_fuzz.py fuzzes), so a route
added later is covered automatically; the core mock's come from its URLconf. Requests carry real
credentials (the customer's JWT, a superuser's staff JWT, the core API key) and point at real rows (the
customer's account, a pending application, an accepted transfer) so that each input reaches the code that
reads it instead of being stopped earlier by authentication or a 404.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db.models import Count, Sum
from django.test import Client
from django.urls import URLPattern, get_resolver

from config.api import AUTH, CORE, QUERY, ROUTER
from config.wsgi_core import CORE_URLCONF
from tests.fixtures.auth import STAFF_PASSWORD
from tests.fixtures.transfers import PAYER_ACCOUNT, transfer_body

pytestmark = [pytest.mark.django_db(databases=["default", "core"])]

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
BANK_OPERATIONS = [result.ok() for result in schema.get_all_operations()]
BODY_METHODS = {"POST", "PUT", "PATCH"}

# A few KB that nest thousands of levels: Python's json module raises RecursionError on it.
DEEP_JSON_BODIES = {
    "arrays": "[" * 5000 + "]" * 5000,
    "objects": '{"a":' * 3000 + "1" + "}" * 3000,
    "inside-a-field": '{"customerInfo":' + "[" * 4000 + "]" * 4000 + "}",
}
# Each parses as a small number through int() or str.isdigit(): superscript, circled, fullwidth, Arabic-Indic.
NON_ASCII_DIGITS = ["²", "①", "１", "٣", "１０", "٢٠"]
BAD_INSTANTS = [
    "9999-12-31T23:59:59-05:00",  # overflows when converted to UTC
    "0001-01-01T00:00:00+09:00",  # underflows when converted to UTC
    "2026-02-30T00:00:00+09:00",  # no such day
    "2026-01-01T25:00:00Z",  # no such hour
    "２０２６-01-01T00:00:00Z",  # fullwidth digits
    "2026-01-01T00:00:00+99:00",  # impossible offset
    "99999-01-01T00:00:00Z",
    "not-a-time",
]
# Query parameters read as integers that the schema does not list (APIViews paginating by hand).
UNDOCUMENTED_INTEGER_QUERY = {("GET", "/v1/admin/outbox"): ["limit", "offset"]}
FAMILY_OF_GATEWAY = "gateway"


# --- what "nothing written" means ---------------------------------------------------------------------------

def state_snapshot() -> dict[str, Any]:
    """Counts and sums of every table a refused request must not touch, in the bank and the core databases."""
    from accounts.models import Application
    from balance.models import AccountBalance, TransactionEntry
    from corebanking_mock.models import Account, Customer, IdempotencyRecord, Posting
    from outbox.models import Event, IdempotentRequest, OutboxMessage
    from transfers.models import Transfer, TransferOperatorAction

    return {
        "bank_balances": AccountBalance.objects.aggregate(rows=Count("pk"), ledger=Sum("ledger_balance"),
                                                          pending=Sum("pending_debits")),
        "bank_postings": TransactionEntry.objects.count(),
        "transfers": list(Transfer.objects.order_by("pk").values_list("pk", "status", "version")),
        "operator_actions": TransferOperatorAction.objects.count(),
        "applications": list(Application.objects.order_by("pk").values_list("pk", "status")),
        "events": Event.objects.count(),
        "outbox": list(OutboxMessage.objects.order_by("pk").values_list("pk", "status")),
        "idempotent_requests": IdempotentRequest.objects.count(),
        "core_balances": Account.objects.aggregate(rows=Count("pk"), total=Sum("balance")),
        "core_postings": Posting.objects.count(),
        "core_customers": Customer.objects.count(),
        "core_idempotency": IdempotencyRecord.objects.count(),
    }


def assert_family_shape(family: str, body: Any) -> None:
    """The error body has the keys of its route family (api.md §1.7 shapes, kept per route)."""
    assert isinstance(body, dict), body
    if family == AUTH:
        assert isinstance(body.get("error"), dict) and {"code", "message"} <= set(body["error"]), body
    elif family in (ROUTER, CORE):
        assert isinstance(body.get("error"), str), body
    else:  # QUERY and the gateway answers
        assert isinstance(body.get("message"), str), body


# --- the world the requests run against -----------------------------------------------------------------------

@dataclass
class World:
    customer_headers: dict[str, str]
    staff_headers: dict[str, str]
    path_values: dict[str, str]

    def headers_for(self, path: str) -> dict[str, str]:
        staff_route = path.startswith("/v1/admin/") or "/accounts/confirm/" in path
        return self.staff_headers if staff_route else self.customer_headers

    def concrete(self, path_template: str) -> str:
        values = dict(self.path_values)
        if "/accounts/confirm/" in path_template:  # the application's transaction id, not the transfer's
            values["transaction_id"] = values["application_transaction_id"]
        return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path_template)


@pytest.fixture
def world(payer, payee, make_user, login_token, pending_application, transfer_post, core_db) -> World:
    staff = make_user("staff990", password=STAFF_PASSWORD, email="staff990@bank.example", is_staff=True,
                      is_superuser=True)
    accepted = transfer_post(payer, transfer_body(amount=1_000))
    assert accepted.status_code == 202, accepted.content
    from outbox.models import OutboxMessage

    return World(
        customer_headers={"HTTP_AUTHORIZATION": f"Bearer {login_token(payer)}"},
        staff_headers={"HTTP_AUTHORIZATION": f"Bearer {login_token(staff)}"},
        path_values={"account_id": PAYER_ACCOUNT, "application_id": pending_application.application_id,
                     "transaction_id": accepted.json()["transactionId"],
                     "application_transaction_id": pending_application.transaction_id,
                     "message_id": str(OutboxMessage.objects.order_by("pk").first().pk)},
    )


def bank_family(path: str) -> str:
    from django.test import RequestFactory

    from config.http_guards import error_family_for_request

    return error_family_for_request(RequestFactory().get(path)) or FAMILY_OF_GATEWAY


def assert_refused_unchanged(send: Callable[[], Any], *, family: str, expected: set[int]) -> Any:
    before = state_snapshot()
    response = send()
    assert response.status_code in expected, (response.status_code, response.content[:300])
    body = json.loads(response.content)
    if response.status_code >= 400:
        # 401/403 from the token and permission checks use the gateway shape on every route (config/api.py).
        gateway_refusal = response.status_code in (401, 403) and isinstance(body.get("message"), str)
        assert_family_shape(FAMILY_OF_GATEWAY if gateway_refusal else family, body)
    assert state_snapshot() == before
    return response


# --- the bank API: every operation of the schema ----------------------------------------------------------------

def _ids(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


BODY_OPERATIONS = [op for op in BANK_OPERATIONS if op.method.upper() in BODY_METHODS]


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=_ids)
@pytest.mark.parametrize("shape", list(DEEP_JSON_BODIES))
def test_bank_route_refuses_deeply_nested_json_when_posted(world, operation, shape):
    path = world.concrete(operation.path)
    client = Client()
    # 400, also on the routes that take no fields (abort, compensate, replay, logout parse a body that is
    # sent); registration refuses every call with 403 before reading anything.
    expected = {400, 403} if operation.path == "/v1/api/users/register" else {400}
    assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, DEEP_JSON_BODIES[shape],
                               content_type="application/json", **world.headers_for(path)),
        family=bank_family(path), expected=expected)


@pytest.mark.parametrize("path", ["/v1/api/transfer", "/v1/api/transfers", "/v1/api/accounts",
                                  "/v1/api/auth/login", "/v1/api/auth/password", "/v1/api/accounts/confirm/{tx}",
                                  "/v1/api/accounts/confirm/{tx}/reject"])
def test_bank_body_route_answers_400_when_json_is_nested_too_deeply(world, path):
    path = path.replace("{tx}", world.path_values["application_transaction_id"])
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.post(path, DEEP_JSON_BODIES["arrays"], content_type="application/json",
                            **world.headers_for(path)),
        family=bank_family(path), expected={400})
    assert "JSON" in response.content.decode()


@pytest.mark.parametrize("operation", BANK_OPERATIONS, ids=_ids)
def test_bank_route_answers_413_in_its_family_when_body_exceeds_the_limit(world, operation):
    path = world.concrete(operation.path)
    oversized = json.dumps({"padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, oversized, content_type="application/json",
                               **world.headers_for(path)),
        family=bank_family(path), expected={413})
    assert "RequestDataTooBig" not in response.content.decode()


INTEGER_QUERY_CASES = [
    (op, parameter.name) for op in BANK_OPERATIONS for parameter in op.query
    if parameter.definition.get("schema", {}).get("type") == "integer"
] + [
    (op, name) for op in BANK_OPERATIONS
    for name in UNDOCUMENTED_INTEGER_QUERY.get((op.method.upper(), op.path), [])
]


def test_the_schema_lists_integer_query_parameters_to_fuzz():
    assert {name for _, name in INTEGER_QUERY_CASES} >= {"page", "pageSize", "limit", "offset"}


@pytest.mark.parametrize(("operation", "name"), INTEGER_QUERY_CASES, ids=lambda value: getattr(
    value, "path", value))
@pytest.mark.parametrize("digits", NON_ASCII_DIGITS)
def test_bank_integer_query_parameter_answers_400_when_digits_are_not_ascii(world, operation, name, digits):
    path = world.concrete(operation.path)
    client = Client()
    assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, data="", QUERY_STRING=urlencode({name: digits}),
                               **world.headers_for(path)),
        family=bank_family(path), expected={400})


DATETIME_QUERY_CASES = [
    (op, parameter.name) for op in BANK_OPERATIONS for parameter in op.query
    if parameter.definition.get("schema", {}).get("format") == "date-time"
]


def test_the_schema_lists_datetime_query_parameters_to_fuzz():
    assert {(op.path, name) for op, name in DATETIME_QUERY_CASES} >= {
        ("/v1/admin/transfer-events/{transaction_id}", "asOf"),
        ("/v1/admin/account-applications/{application_id}/events", "asOf")}


@pytest.mark.parametrize(("operation", "name"), DATETIME_QUERY_CASES, ids=lambda value: getattr(
    value, "path", value))
@pytest.mark.parametrize("instant", BAD_INSTANTS)
def test_bank_datetime_query_parameter_answers_400_when_instant_is_impossible(world, operation, name, instant):
    path = world.concrete(operation.path)
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, data="", QUERY_STRING=urlencode({name: instant}),
                               **world.headers_for(path)),
        family=bank_family(path), expected={400})
    assert "asOf" in response.content.decode()


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/v1/nonexistent", "/v1/api/balance/extra", "/v1/admin/nothing/here"])
def test_unknown_api_path_answers_missing_authentication_token_when_any_method(world, client, method, path):
    session_client = Client(enforce_csrf_checks=True)  # CSRF is enforced, as in a browser
    response = assert_refused_unchanged(
        lambda: session_client.generic(method, path, "{}", content_type="application/json"),
        family=FAMILY_OF_GATEWAY, expected={403})
    assert response.json() == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize("target", ["x" * 200, "001765432", "00176543210", "００17654321", "٠٠١٧٦٥٤٣٢١",
                                    "0017654321\n", "0017-654321"])
def test_transfer_request_names_the_target_when_target_account_id_is_malformed(world, target):
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.post("/v1/api/transfer", json.dumps(transfer_body(target=target, description=None)),
                            content_type="application/json", **world.customer_headers),
        family=QUERY, expected={400})
    body = response.json()
    assert body["field"] == "targetAccountId" and "targetAccountId" in body["error"]
    assert "description" not in json.dumps(body)


# --- the core mock: every route of its URLconf -----------------------------------------------------------------

def _core_patterns(patterns: list, prefix: str = "") -> list[tuple[str, URLPattern]]:
    flat = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            flat.append((prefix + str(pattern.pattern), pattern))
        else:  # an include()
            flat.extend(_core_patterns(pattern.url_patterns, prefix + str(pattern.pattern)))
    return flat


def _core_routes() -> list[tuple[str, str, type]]:
    routes = []
    for route, pattern in _core_patterns(get_resolver(CORE_URLCONF).url_patterns):
        if isinstance(pattern, URLPattern) and pattern.name and pattern.name.startswith("core-") \
                and hasattr(pattern.callback, "view_class"):
            view = pattern.callback.view_class
            for method in ("get", "post"):
                if hasattr(view, method):
                    routes.append((method.upper(), route, view))
    # The core process's own resolver also serves /healthz (config.urls_core); it takes no body.
    return [route for route in routes if route[1] != "healthz"]


CORE_ROUTES = _core_routes()
CORE_PATH_VALUES = {"customer_id": "CUST001", "account_id": PAYER_ACCOUNT, "transaction_id": "TX-unknown",
                    "key": "unknown-key"}


def _core_path(route: str) -> str:
    return "/" + re.sub(r"<\w+:(\w+)>", lambda match: CORE_PATH_VALUES[match.group(1)], route)


def _core_headers(route: str) -> dict[str, str]:
    headers = {"HTTP_X_API_KEY": settings.CORE_BANKING_API_KEY, "HTTP_IDEMPOTENCY_KEY": "hostile-input-1"}
    if route.startswith("core/_faults"):
        headers["HTTP_X_CONTROL_KEY"] = settings.CORE_MOCK_CONTROL_KEY
    return headers


def test_the_core_routes_to_fuzz_include_the_money_routes():
    posted = {route for method, route, _ in CORE_ROUTES if method == "POST"}
    assert {"api/transactions/withdraw", "api/transactions/deposit", "api/customers", "api/accounts"} <= posted


@pytest.fixture
def core_client(world, settings) -> Client:
    settings.ROOT_URLCONF = CORE_URLCONF
    return Client()


def _route_id(value: Any) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", str(value))


@pytest.mark.parametrize(("method", "route", "view"), [r for r in CORE_ROUTES if r[0] == "POST"], ids=_route_id)
@pytest.mark.parametrize("shape", list(DEEP_JSON_BODIES))
def test_core_route_answers_400_when_json_is_nested_too_deeply(core_client, method, route, view, shape):
    assert_refused_unchanged(
        lambda: core_client.generic(method, _core_path(route), DEEP_JSON_BODIES[shape],
                                    content_type="application/json", **_core_headers(route)),
        family=CORE, expected={400})


@pytest.mark.parametrize(("method", "route", "view"), CORE_ROUTES, ids=_route_id)
def test_core_route_answers_413_when_body_exceeds_the_limit(core_client, method, route, view):
    oversized = json.dumps({"padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert_refused_unchanged(
        lambda: core_client.generic(method, _core_path(route), oversized, content_type="application/json",
                                    **_core_headers(route)),
        family=CORE, expected={413})


@pytest.mark.parametrize("digits", NON_ASCII_DIGITS)
def test_core_feed_limit_answers_400_when_digits_are_not_ascii(core_client, digits):
    assert_refused_unchanged(
        lambda: core_client.get(f"/api/accounts/{PAYER_ACCOUNT}/transactions",
                                {"since": "2026-01-01T00:00:00Z", "limit": digits}, **_core_headers("api")),
        family=CORE, expected={400})


@pytest.mark.parametrize("instant", BAD_INSTANTS)
def test_core_feed_since_answers_400_when_instant_is_impossible(core_client, instant):
    assert_refused_unchanged(
        lambda: core_client.get(f"/api/accounts/{PAYER_ACCOUNT}/transactions", {"since": instant},
                                **_core_headers("api")),
        family=CORE, expected={400})


def test_core_unknown_path_answers_its_404_when_posted(core_client):
    response = assert_refused_unchanged(
        lambda: Client(enforce_csrf_checks=True).post("/api/nothing", "{}", content_type="application/json"),
        family=CORE, expected={404})
    assert response.json()["error"] == "Endpoint not found"


# --- phone numbers and postal codes: stored with ASCII digits or refused ------------------------------------------

@pytest.mark.parametrize(("phone", "postal"), [("０９０-１２３４-５６７８", "１００-０００１"),
                                               ("⁰⁹⁰¹²³⁴⁵⁶⁷⁸", "¹⁰⁰⁰⁰⁰¹"), ("⓪⑨⓪-①②③④-⑤⑥⑦⑧", "①⓪⓪-⓪⓪⓪①")])
def test_application_stores_ascii_digits_when_phone_and_postal_code_use_nfkc_digits(
        api_client, application_body, outbox_nudges, phone, postal):
    from accounts.models import Application

    application_body["customerInfo"]["phoneNumber"] = phone
    application_body["address"]["postalCode"] = postal
    response = api_client.post("/v1/api/accounts", application_body, format="json")
    assert response.status_code == 201, response.content
    info = Application.objects.get(application_id=response.json()["id"]).snapshot["customerInfo"]
    assert info["phoneNumber"] in ("090-1234-5678", "09012345678") and info["phoneNumber"].isascii()
    assert info["postalCode"] == "100-0001"


@pytest.mark.parametrize(("field", "value"), [("phoneNumber", "٠٩٠-١٢٣٤-٥٦٧٨"), ("postalCode", "١٠٠-٠٠٠١"),
                                              ("phoneNumber", "۰۹۰-۱۲۳۴-۵۶۷۸"), ("postalCode", "१००-०००१")])
def test_application_is_refused_when_phone_or_postal_code_has_digits_without_ascii_form(
        world, api_client, application_body, field, value):
    if field == "phoneNumber":
        application_body["customerInfo"]["phoneNumber"] = value
    else:
        application_body["address"]["postalCode"] = value
    response = assert_refused_unchanged(lambda: api_client.post("/v1/api/accounts", application_body, format="json"),
                                        family=ROUTER, expected={400})
    assert set(response.json()["fields"]) == {field}


@pytest.mark.parametrize(("phone", "postal"), [("٠٩٠-١٢٣٤-٥٦٧٨", "100-0001"), ("090-1234-5678", "١٠٠-٠٠٠١")])
def test_core_customer_is_refused_when_phone_or_postal_code_has_digits_without_ascii_form(core_client, phone,
                                                                                          postal):
    body = {"customerInfo": {"fullName": "山田 太郎", "email": "taro@example.com", "phoneNumber": phone,
                             "postalCode": postal}}
    assert_refused_unchanged(lambda: core_client.post("/api/customers", json.dumps(body),
                                                      content_type="application/json",
                                                      **_core_headers("api/customers")),
                             family=CORE, expected={400})


def test_core_customer_stores_ascii_digits_when_phone_uses_fullwidth_digits(core_client):
    from corebanking_mock.models import Customer

    body = {"customerInfo": {"fullName": "山田 太郎", "email": "taro@example.com",
                             "phoneNumber": "０９０-１２３４-５６７８", "postalCode": "１００-０００１"}}
    response = core_client.post("/api/customers", json.dumps(body), content_type="application/json",
                                **_core_headers("api/customers"))
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(customer_id=response.json()["customerId"])
    assert (customer.phone, customer.postal_code) == ("090-1234-5678", "100-0001")
