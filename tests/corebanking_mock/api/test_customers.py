"""Contract: POST /api/customers and GET /api/customers/{customerId} (api.md §6.2, §6.3, §8)."""
import re

import pytest

from corebanking_mock.models import Customer, IdempotencyRecord

pytestmark = pytest.mark.django_db(databases=["default", "core"])

CUSTOMER_INFO = {
    "fullName": "佐藤 花子", "kana": "サトウ ハナコ", "email": "hanako@example.com", "phoneNumber": "080-0000-0000",
    "birthdate": "1990-01-01", "postalCode": "100-0001", "address": "東京都千代田区千代田1-1",
    "idType": "passport", "idNumber": "TK1234567",
}


def test_customer_is_created_with_the_full_shape_when_the_request_is_complete(core_api):
    # given / when
    response = core_api.post("/api/customers", {"customerInfo": CUSTOMER_INFO}, idempotency_key="customer-APP-1")
    # then
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"CUST-\d{6}", body["customerId"])
    assert body | {"customerId": "x", "createdAt": "t", "updatedAt": "t"} == {
        "customerId": "x", "name": "佐藤 花子", "kana": "サトウ ハナコ", "email": "hanako@example.com",
        "phone": "080-0000-0000", "birthDate": "1990-01-01",
        "address": {"postalCode": "100-0001", "address": "東京都千代田区千代田1-1"},
        "identityDocument": {"type": "passport", "number": "TK1234567"}, "status": "ACTIVE",
        "createdAt": "t", "updatedAt": "t",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["createdAt"])
    assert Customer.objects.filter(pk=body["customerId"]).exists()


def test_optional_fields_default_to_empty_strings_when_only_name_and_email_are_sent(core_api):
    # when
    response = core_api.post("/api/customers", {"customerInfo": {"fullName": "山田 太郎", "email": "taro@example.com"}},
                             idempotency_key="customer-APP-2")
    # then
    body = response.json()
    assert response.status_code == 201
    assert (body["kana"], body["phone"], body["birthDate"]) == ("", "", "")
    assert body["address"] == {"postalCode": "", "address": ""}
    assert body["identityDocument"] == {"type": "", "number": ""}


def test_created_customer_is_readable_when_fetched_by_id(core_api):
    # given
    created = core_api.post("/api/customers", {"customerInfo": CUSTOMER_INFO}, idempotency_key="customer-APP-3").json()
    # when
    response = core_api.get(f"/api/customers/{created['customerId']}")
    # then
    assert response.status_code == 200
    assert response.json() == created


def test_seeded_customer_has_last_and_first_name_when_fetched(core_api, core_db):
    # when
    response = core_api.get("/api/customers/CUST001")
    # then
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"customerId", "lastName", "firstName", "email", "phone", "status", "createdAt", "updatedAt"}
    assert (body["lastName"], body["firstName"], body["email"], body["phone"], body["status"]) == (
        "キンユウ", "リファレンスアーキテクチャ", "user001@example.com", "090-0000-0001", "ACTIVE")


def test_unknown_customer_is_404_when_fetched(core_api, core_db):
    # when
    response = core_api.get("/api/customers/CUST-999999")
    # then
    assert response.status_code == 404
    assert response.json() == {"error": "Customer not found", "customerId": "CUST-999999"}


def test_request_body_is_required_when_the_body_is_empty(core_api):
    # when
    response = core_api.post("/api/customers", idempotency_key="customer-APP-4")
    # then
    assert response.status_code == 400
    assert response.json() == {"error": "Request body is required"}


@pytest.mark.parametrize("body, bad_field", [
    ({}, "customerInfo"),
    ({"customerInfo": {"email": "a@example.com"}}, "fullName"),
    ({"customerInfo": {"fullName": "a"}}, "email"),
    ({"customerInfo": {"fullName": " ", "email": "a@example.com"}}, "fullName"),
    ({"customerInfo": {"fullName": "a", "email": "not-an-email"}}, "email"),
])
def test_customer_is_refused_per_field_when_name_or_email_is_missing(core_api, body, bad_field):
    # when
    response = core_api.post("/api/customers", body, idempotency_key="customer-APP-5")
    # then
    payload = response.json()
    assert response.status_code == 400
    assert payload["error"] == "customerInfo with fullName and email are required"
    fields = payload["fields"] if bad_field == "customerInfo" else payload["fields"]["customerInfo"]
    assert bad_field in fields
    assert Customer.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
