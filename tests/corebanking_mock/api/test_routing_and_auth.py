"""Contract: service credential, catch-all 404, CORS header, health, no leaked internals (api.md §6.1-6.2)."""
import pytest

from corebanking_mock import selectors

pytestmark = pytest.mark.django_db(databases=["default", "core"])

API_ROUTES = [
    ("POST", "/api/customers"), ("GET", "/api/customers/CUST001"), ("POST", "/api/accounts"),
    ("GET", "/api/accounts/0011234567"), ("GET", "/api/accounts/0011234567/transactions"),
    ("POST", "/api/transactions/withdraw"), ("POST", "/api/transactions/deposit"), ("GET", "/api/transaction/TXN001"),
    ("GET", "/api/idempotency/k"), ("POST", "/api/idempotency/k/void"),
]


@pytest.mark.parametrize("method, path", API_ROUTES)
@pytest.mark.parametrize("api_key", [None, "", "wrong-key", "test-core-key-but-longer", "ｷｰ"])
def test_api_route_is_401_when_the_api_key_is_missing_or_wrong(core_api, core_db, method, path, api_key):
    # when
    if method == "GET":
        response = core_api.get(path, api_key=api_key)
    else:
        response = core_api.post(path, {"accountId": "0011234567", "amount": 1}, api_key=api_key,
                                 idempotency_key="k")
    # then
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}


@pytest.mark.parametrize("method, path", [
    ("GET", "/"), ("GET", "/api/unknown"), ("POST", "/api/transfer"), ("GET", "/api/customers/"),
    ("PUT", "/api/accounts"), ("DELETE", "/api/accounts/0011234567"), ("GET", "/api/transactions/withdraw"),
    ("PATCH", "/api/customers/CUST001"), ("OPTIONS", "/api/accounts"), ("GET", "/api/transaction/"),
])
def test_unknown_path_or_method_is_endpoint_not_found_when_requested(core_api, core_db, method, path):
    # when
    response = core_api.request(method, path)
    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Endpoint not found", "path": path, "method": method}


def test_every_answer_carries_json_and_cors_headers_when_served(core_api, core_db):
    # when
    answers = [core_api.get("/api/accounts/0011234567"), core_api.get("/nope"),
               core_api.get("/api/accounts/0011234567", api_key=None)]
    # then
    for response in answers:
        assert response["Content-Type"].startswith("application/json")
        assert response["Access-Control-Allow-Origin"] == "*"


def test_health_is_ok_without_a_key_when_core_is_up(core_api):
    # when
    response = core_api.get("/core/health", api_key=None)
    # then
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_unhandled_error_is_a_generic_500_when_a_route_crashes(core_api, core_db, monkeypatch):
    # given
    def crash(**_kwargs):
        raise RuntimeError("secret table corebanking_mock_account exploded")

    monkeypatch.setattr(selectors, "account_get", crash)
    # when
    response = core_api.get("/api/accounts/0011234567")
    # then
    body = response.json()
    assert response.status_code == 500
    assert body["error"] == "Internal server error"
    assert "exploded" not in response.content.decode()
    assert set(body) <= {"error", "requestId"}


def test_nul_in_a_path_id_is_not_found_when_requested(core_api, core_db):
    # when
    response = core_api.get("/api/accounts/001%00")
    # then
    assert response.status_code == 404
