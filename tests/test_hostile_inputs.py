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
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from django.urls import URLPattern, get_resolver

from config.api import CORE, QUERY, ROUTER
from config.wsgi_core import CORE_URLCONF
from tests.fixtures.hostile import (
    BAD_INSTANTS,
    DEEP_JSON_BODIES,
    FAMILY_OF_GATEWAY,
    NON_ASCII_DIGITS,
    assert_refused_unchanged,
    bank_family,
)
from tests.fixtures.transfers import PAYER_ACCOUNT, transfer_body

pytestmark = [pytest.mark.django_db(databases=["default", "core"])]

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
BANK_OPERATIONS = [result.ok() for result in schema.get_all_operations()]
BODY_METHODS = {"POST", "PUT", "PATCH"}

# Query parameters read as integers that the schema does not list (APIViews paginating by hand).
UNDOCUMENTED_INTEGER_QUERY = {("GET", "/v1/admin/outbox"): ["limit", "offset"]}


# --- the bank API: every operation of the schema ----------------------------------------------------------------

def _ids(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


BODY_OPERATIONS = [op for op in BANK_OPERATIONS if op.method.upper() in BODY_METHODS]


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=_ids)
@pytest.mark.parametrize("shape", list(DEEP_JSON_BODIES))
def test_bank_route_refuses_deeply_nested_json_when_posted(hostile_world, operation, shape):
    path = hostile_world.concrete(operation.path)
    client = Client()
    # 400, also on the routes that take no fields (abort, compensate, replay, logout parse a body that is
    # sent); registration refuses every call with 403 before reading anything.
    expected = {400, 403} if operation.path == "/v1/api/users/register" else {400}
    assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, DEEP_JSON_BODIES[shape],
                               content_type="application/json", **hostile_world.headers_for(path)),
        family=bank_family(path), expected=expected)


@pytest.mark.parametrize("path", ["/v1/api/transfer", "/v1/api/transfers", "/v1/api/accounts",
                                  "/v1/api/auth/login", "/v1/api/auth/password", "/v1/api/accounts/confirm/{tx}",
                                  "/v1/api/accounts/confirm/{tx}/reject"])
def test_bank_body_route_answers_400_when_json_is_nested_too_deeply(hostile_world, path):
    path = path.replace("{tx}", hostile_world.path_values["application_transaction_id"])
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.post(path, DEEP_JSON_BODIES["arrays"], content_type="application/json",
                            **hostile_world.headers_for(path)),
        family=bank_family(path), expected={400})
    assert "JSON" in response.content.decode()


def test_every_operation_documents_its_413_answer():
    undocumented = [_ids(op) for op in BANK_OPERATIONS if "413" not in op.definition.raw["responses"]]
    assert undocumented == []


@pytest.mark.parametrize("operation", BANK_OPERATIONS, ids=_ids)
def test_bank_route_answers_413_in_its_family_when_body_exceeds_the_limit(hostile_world, operation):
    path = hostile_world.concrete(operation.path)
    oversized = json.dumps({"padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, oversized, content_type="application/json",
                               **hostile_world.headers_for(path)),
        family=bank_family(path), expected={413})
    assert "RequestDataTooBig" not in response.content.decode()


INTEGER_QUERY_CASES = [
    (op, parameter.name) for op in BANK_OPERATIONS for parameter in op.query
    if parameter.definition.get("schema", {}).get("type") == "integer"
] + [
    (op, name) for op in BANK_OPERATIONS
    for name in UNDOCUMENTED_INTEGER_QUERY.get((op.method.upper(), op.path), [])
]


@pytest.mark.parametrize("query", [{"offset": str(2**63)}, {"offset": "9" * 40}, {"limit": "9" * 40}])
def test_outbox_list_answers_400_when_paging_is_past_the_database_range(hostile_world, query):
    response = assert_refused_unchanged(
        lambda: Client().get("/v1/admin/outbox", query, **hostile_world.staff_headers), family=ROUTER,
        expected={400})
    assert set(response.json()["fields"]) == set(query)


@pytest.mark.parametrize("account_id", ["0011234567\n", "００11234567", "٠٠١١٢٣٤٥٦٧", "0011234567 "])
def test_balance_answers_400_when_account_id_is_not_ten_ascii_digits(hostile_world, account_id):
    response = assert_refused_unchanged(
        lambda: Client().get("/v1/api/balance", {"accountId": account_id}, **hostile_world.customer_headers),
        family=QUERY, expected={400})
    assert "accountId" in response.json()["message"]


def test_the_schema_lists_integer_query_parameters_to_fuzz():
    assert {name for _, name in INTEGER_QUERY_CASES} >= {"page", "pageSize", "limit", "offset"}


@pytest.mark.parametrize(("operation", "name"), INTEGER_QUERY_CASES, ids=lambda value: getattr(
    value, "path", value))
@pytest.mark.parametrize("digits", NON_ASCII_DIGITS)
def test_bank_integer_query_parameter_answers_400_when_digits_are_not_ascii(hostile_world, operation, name, digits):
    path = hostile_world.concrete(operation.path)
    client = Client()
    assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, data="", QUERY_STRING=urlencode({name: digits}),
                               **hostile_world.headers_for(path)),
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
def test_bank_datetime_query_parameter_answers_400_when_instant_is_impossible(hostile_world, operation, name, instant):
    path = hostile_world.concrete(operation.path)
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.generic(operation.method.upper(), path, data="", QUERY_STRING=urlencode({name: instant}),
                               **hostile_world.headers_for(path)),
        family=bank_family(path), expected={400})
    assert "asOf" in response.content.decode()


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/v1/nonexistent", "/v1/api/balance/extra", "/v1/admin/nothing/here"])
def test_unknown_api_path_answers_missing_authentication_token_when_any_method(hostile_world, client, method, path):
    session_client = Client(enforce_csrf_checks=True)  # CSRF is enforced, as in a browser
    response = assert_refused_unchanged(
        lambda: session_client.generic(method, path, "{}", content_type="application/json"),
        family=FAMILY_OF_GATEWAY, expected={403})
    assert response.json() == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize("target", ["x" * 200, "001765432", "00176543210", "００17654321", "٠٠١٧٦٥٤٣٢١",
                                    "0017654321\n", "0017-654321"])
def test_transfer_request_names_the_target_when_target_account_id_is_malformed(hostile_world, target):
    client = Client()
    response = assert_refused_unchanged(
        lambda: client.post("/v1/api/transfer", json.dumps(transfer_body(target=target, description=None)),
                            content_type="application/json", **hostile_world.customer_headers),
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
def core_client(hostile_world, settings) -> Client:
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
        hostile_world, api_client, application_body, field, value):
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


def test_core_route_answers_413_when_a_multipart_body_over_the_limit_is_read(core_client):
    # Multipart bodies pass the early Content-Length guard (uploads have their own limits); the core reads the
    # raw body, Django raises RequestDataTooBig there, and the exception handler answers 413 in the core family.
    boundary = "hostile-boundary"
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"padding\"\r\n\r\n"
               + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + f"\r\n--{boundary}--\r\n")
    assert_refused_unchanged(
        lambda: core_client.generic("POST", "/api/customers", payload,
                                    content_type=f"multipart/form-data; boundary={boundary}",
                                    **_core_headers("api/customers")),
        family=CORE, expected={413})
