"""The original React SPA's calls, replayed at the wire level against this server (docs/original-frontend.md).

Each test sends what the SPA sends on one journey: a CORS preflight without key or token from the SPA's own
origin, then the call with `X-Api-Key` (the key the SPA picks for that module), `Content-Type: application/json`
and, on banking calls, `Authorization: Bearer`; and it checks the fields the SPA reads (api.md §5) and the CORS
header the browser needs to hand the answer to the SPA. This is not a browser run of the SPA itself (its
source is not part of this repository); it proves the server's side of each journey.
"""
from __future__ import annotations

import pytest

from tests.fixtures.auth import CUSTOMER_PASSWORD

pytestmark = pytest.mark.django_db
SPA_ORIGIN = "http://localhost:3000"


def _preflight(client, path: str, method: str, headers: str) -> None:
    response = client.options(path, HTTP_ORIGIN=SPA_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers)
    assert response.status_code == 200, (path, response.status_code)
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
    allowed = response["Access-Control-Allow-Headers"].lower()
    for header in headers.split(","):
        assert header in allowed, header


def _call(client, method: str, path: str, *, key: str, token: str | None = None, body=None):
    preflight_headers = "content-type,x-api-key" + (",authorization" if token else "")
    _preflight(client, path.split("?")[0], method, preflight_headers)
    extra = {"HTTP_ORIGIN": SPA_ORIGIN, "HTTP_X_API_KEY": key}
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if method == "GET":
        response = client.get(path, **extra)
    else:
        response = client.post(path, body or {}, format="json", **extra)
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN, (path, response.status_code)
    return response


@pytest.fixture
def funded_customer(customer_user, other_customer_user, open_account, post_entry):
    account = open_account(customer_user.primary_account_id, customer_user.customer_id)
    post_entry(account, 1_000_000, type="OPENING_CREDIT")
    open_account(other_customer_user.primary_account_id, other_customer_user.customer_id)
    return customer_user


def _login(api_client, api_keys, user) -> dict:
    response = _call(api_client, "POST", "/v1/api/auth/login", key=api_keys.auth,
                     body={"loginId": user.get_username(), "password": CUSTOMER_PASSWORD})
    assert response.status_code == 200
    return response.json()


def test_config_json_is_the_template_the_spa_needs(api_client, api_keys):
    body = api_client.get("/config.json", HTTP_HOST="127.0.0.1:8000").json()
    assert body == {"REACT_APP_BANKING_API": "http://127.0.0.1:8000/v1/",
                    "REACT_APP_CUSTOMER_API_KEY": api_keys.customer, "REACT_APP_ADMIN_API_KEY": api_keys.admin,
                    "REACT_APP_AUTH_API_KEY": api_keys.auth}


def test_login_and_protected_route_guard(api_client, api_keys, funded_customer):
    # login: token, user, a future expiresAt
    login = _login(api_client, api_keys, funded_customer)
    assert login["token"] and login["user"]["primaryAccountId"] == funded_customer.primary_account_id
    assert login["expiresAt"].endswith("Z")
    # /banking's guard: verify answers valid + user with primaryAccountId and email
    verify = _call(api_client, "GET", "/v1/api/auth/verify", key=api_keys.auth, token=login["token"]).json()
    assert verify["valid"] is True
    assert verify["user"]["primaryAccountId"] == funded_customer.primary_account_id and verify["user"]["email"]
    # a wrong password: {error: {code, message}} shown on the form
    wrong = _call(api_client, "POST", "/v1/api/auth/login", key=api_keys.auth,
                  body={"loginId": funded_customer.get_username(), "password": "not-the-password"})
    assert wrong.status_code == 401 and set(wrong.json()["error"]) >= {"code", "message"}


def test_dashboard_balance_and_history(api_client, api_keys, funded_customer):
    token = _login(api_client, api_keys, funded_customer)["token"]
    account = funded_customer.primary_account_id
    balance = _call(api_client, "GET", f"/v1/api/balance?accountId={account}", key=api_keys.customer, token=token)
    assert balance.status_code == 200
    assert balance.json()["balance"] == 1_000_000 and isinstance(balance.json()["balance"], int)
    assert balance.json()["lastUpdated"]
    history = _call(api_client, "GET", f"/v1/api/accounts/{account}/transactions", key=api_keys.customer,
                    token=token)
    item = history.json()["transactions"][0]
    assert {"transactionId", "timestamp", "description", "amount", "type", "status"} <= set(item)
    assert isinstance(item["amount"], int)


def test_transfer_is_accepted_with_202(api_client, api_keys, funded_customer, other_customer_user):
    token = _login(api_client, api_keys, funded_customer)["token"]
    response = _call(api_client, "POST", "/v1/api/transfer", key=api_keys.customer, token=token,
                     body={"sourceAccountId": funded_customer.primary_account_id,
                           "targetAccountId": other_customer_user.primary_account_id, "amount": 1000,
                           "description": "振込テスト"})
    assert response.status_code == 202
    assert {"message", "transactionId", "timestamp", "aggregateId", "version"} <= set(response.json())


def test_account_opening_files_an_application(api_client, api_keys, application_body, outbox_nudges):
    response = _call(api_client, "POST", "/v1/api/accounts", key=api_keys.customer, body=application_body)
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("APP-") and body["transactionId"].startswith("TRX-")
    # the public status route answers only ids and status (no PII, no credentials)
    status = _call(api_client, "GET", f"/v1/api/accounts/{body['id']}", key=api_keys.customer).json()
    assert set(status) == {"id", "transactionId", "status"}


def test_expired_or_revoked_token_gets_401_so_the_spa_returns_to_top(api_client, api_keys, funded_customer):
    account = funded_customer.primary_account_id
    response = _call(api_client, "GET", f"/v1/api/balance?accountId={account}", key=api_keys.customer,
                     token="not-a-valid-token")
    assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}


def test_admin_mode_gets_401_with_only_the_admin_key(api_client, api_keys, pending_application):
    # the SPA's admin mode sends the shared admin key and no login: it identifies no staff member
    for method, path in (("GET", "/v1/admin/account-applications"),
                         ("GET", f"/v1/admin/account-applications/{pending_application.application_id}/credentials"),
                         ("GET", "/v1/admin/transfer-events/0123456789abcdef0123456789abcdef"),
                         ("POST", f"/v1/api/accounts/confirm/{pending_application.transaction_id}"),
                         ("POST", f"/v1/api/accounts/confirm/{pending_application.transaction_id}/reject")):
        response = _call(api_client, method, path, key=api_keys.admin)
        assert response.status_code == 401, (path, response.status_code)
    pending_application.refresh_from_db()
    assert pending_application.status == "PENDING"


def test_new_customer_must_change_the_temporary_password_before_the_dashboard_works(api_client, api_keys,
                                                                                   make_user, open_account):
    # given a login issued by account opening (temporary password, change required)
    user = make_user("user-555555", public_id="USER555", customer_id="CUST-555555", primary_account_id="0015555555",
                     email="new555@example.com", must_change_password=True)
    open_account(user.primary_account_id, user.customer_id)
    token = _login(api_client, api_keys, user)["token"]
    # when the SPA's dashboard asks for the balance
    response = _call(api_client, "GET", f"/v1/api/balance?accountId={user.primary_account_id}",
                     key=api_keys.customer, token=token)
    # then it is refused until the password is changed (the SPA has no screen for it: the web UI does)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"


def test_register_route_is_staff_only(api_client, api_keys):
    response = _call(api_client, "POST", "/v1/api/users/register", key=api_keys.customer,
                     body={"customerId": "CUST-1", "accountId": "0010000001", "email": "x@example.com",
                           "temporaryPassword": "abcdefgh12"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "REGISTRATION_FORBIDDEN"
