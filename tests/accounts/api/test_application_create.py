"""POST /v1/api/accounts: the original SPA's body, the flat form, every validation error, idempotency."""
from __future__ import annotations

import copy
import datetime as dt

import pytest

from accounts.models import Application
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage

URL = "/v1/api/accounts"


def _post(api_client, api_keys, body, **headers):
    return api_client.post(URL, body, format="json", HTTP_X_API_KEY=api_keys.customer, **headers)


def _counts() -> tuple[int, int, int]:
    return Application.objects.count(), Event.objects.count(), OutboxMessage.objects.count()


@pytest.mark.django_db
def test_original_frontend_body_is_accepted_when_kana_is_missing(api_client, api_keys, application_body,
                                                                 outbox_nudges):
    # when
    response = _post(api_client, api_keys, application_body, HTTP_ACCEPT="application/json")

    # then
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "transactionId", "status"}
    assert body["status"] == "PENDING"
    assert body["id"].startswith("APP-") and len(body["id"]) >= 4 + 16
    assert body["transactionId"].startswith("TRX-") and len(body["transactionId"]) >= 4 + 16
    application = Application.objects.get(application_id=body["id"])
    assert application.snapshot["customerInfo"] == {
        "fullName": "山田 太郎", "kana": "", "email": "taro@example.com", "phoneNumber": "090-1234-5678",
        "birthdate": "1990-01-01", "postalCode": "100-0001", "address": "東京都千代田区千代田1-1",
        "idType": "drivingLicense", "idNumber": "123456789012"}
    assert application.account_type == "SAVINGS"
    event = Event.objects.get(aggregate_id=body["id"])
    assert (event.version, event.type, event.status) == (1, "AccountOpeningApplicationCreated", "pending")
    assert event.metadata["processHistoryEntry"] == {"status": "created", "type": "application_created"}
    assert event.metadata["correlationId"] == body["transactionId"]
    row = OutboxMessage.objects.get(aggregate_id=body["id"])
    assert (row.key, row.kind, row.event_version) == (f"notify_receipt-{body['id']}", "notify_receipt", 1)


@pytest.mark.django_db
def test_flat_form_is_accepted_when_sent_with_kana_and_account_type(api_client, api_keys, outbox_nudges):
    # given
    body = {"fullName": "佐藤 花子", "kana": "サトウ ハナコ", "email": "hanako@example.com", "phone": "08000000000",
            "birthdate": "1985-05-05", "postalCode": "1500001", "address": "東京都渋谷区神宮前1-1",
            "idType": "passport", "idNumber": "TK1234567", "accountType": "CHECKING"}

    # when
    response = _post(api_client, api_keys, body)

    # then
    assert response.status_code == 201
    application = Application.objects.get(application_id=response.json()["id"])
    assert application.kana == "サトウ ハナコ"
    assert application.account_type == "CHECKING"
    assert application.snapshot["customerInfo"]["postalCode"] == "150-0001"


def _adult_birthdate_minus(years: int) -> str:
    today = dt.date.today()
    try:
        return today.replace(year=today.year - years).isoformat()
    except ValueError:  # 29 February
        return (today - dt.timedelta(days=1)).replace(year=today.year - years).isoformat()


INVALID_CASES = [
    ("fullName", {"customerInfo": {"fullName": ""}}),
    ("fullName", {"customerInfo": {"fullName": "長" * 101}}),
    ("kana", {"kana": "やまだ たろう"}),
    ("kana", {"kana": "YAMADA"}),
    ("email", {"customerInfo": {"email": ""}}),
    ("email", {"customerInfo": {"email": "taro@"}}),
    ("email", {"customerInfo": {"email": "taro example.com"}}),
    ("phoneNumber", {"customerInfo": {"phoneNumber": ""}}),
    ("phoneNumber", {"customerInfo": {"phoneNumber": "12-3456"}}),
    ("phoneNumber", {"customerInfo": {"phoneNumber": "abc-defg-hijk"}}),
    ("phoneNumber", {"customerInfo": {"phoneNumber": "090-1234-56789"}}),
    ("birthdate", {"customerInfo": {"birthDate": ""}}),
    ("birthdate", {"customerInfo": {"birthDate": "1990/01/01"}}),
    ("birthdate", {"customerInfo": {"birthDate": "1990-02-30"}}),
    ("birthdate", {"customerInfo": {"birthDate": "2999-01-01"}}),
    ("birthdate", {"customerInfo": {"birthDate": "1800-01-01"}}),
    ("postalCode", {"address": {"postalCode": ""}}),
    ("postalCode", {"address": {"postalCode": "100-00011"}}),
    ("postalCode", {"address": {"postalCode": "abc-defg"}}),
    ("address", {"address": {"streetAddress": ""}}),
    ("address", {"address": {"streetAddress": "町" * 201}}),
    ("idType", {"customerInfo": {"idType": ""}}),
    ("idType", {"customerInfo": {"idType": "healthInsurance"}}),
    ("idNumber", {"customerInfo": {"idNumber": ""}}),
    ("idNumber", {"customerInfo": {"idNumber": "12"}}),
    ("idNumber", {"customerInfo": {"idNumber": "番号123456"}}),
    ("accountType", {"type": "定期預金"}),
    ("accountType", {"type": None, "accountType": "GOLD"}),
]


def _merged(base: dict, change: dict) -> dict:
    body = copy.deepcopy(base)
    for key, value in change.items():
        if isinstance(value, dict):
            body.setdefault(key, {}).update(value)
        else:
            body[key] = value
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "change"), INVALID_CASES, ids=[f"{f}-{i}" for i, (f, _) in
                                                                  enumerate(INVALID_CASES)])
def test_field_error_is_reported_when_the_field_is_invalid(api_client, api_keys, application_body, field, change):
    # given
    before = _counts()

    # when
    response = _post(api_client, api_keys, _merged(application_body, change))

    # then
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body["error"], str) and field in body["error"]
    assert list(body["fields"]) == [field]
    assert _counts() == before


@pytest.mark.django_db
def test_minor_is_refused_when_younger_than_the_minimum_age(api_client, api_keys, application_body):
    # given
    application_body["customerInfo"]["birthDate"] = _adult_birthdate_minus(17)

    # when
    response = _post(api_client, api_keys, application_body)

    # then
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["birthdate"]


@pytest.mark.django_db
def test_applicant_is_accepted_when_exactly_eighteen_today(api_client, api_keys, application_body, outbox_nudges):
    # given
    application_body["customerInfo"]["birthDate"] = _adult_birthdate_minus(18)

    # when
    response = _post(api_client, api_keys, application_body)

    # then
    assert response.status_code == 201


@pytest.mark.django_db
def test_every_missing_field_is_listed_when_the_body_is_an_empty_form(api_client, api_keys):
    # when
    response = _post(api_client, api_keys, {"customerInfo": {}, "address": {}})

    # then
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"fullName", "email", "phoneNumber", "birthdate", "postalCode",
                                              "address", "idType", "idNumber"}


@pytest.mark.django_db
def test_missing_body_is_refused_when_the_body_is_empty(api_client, api_keys):
    # when
    response = api_client.post(URL, data="", content_type="application/json", HTTP_X_API_KEY=api_keys.customer)

    # then
    assert response.status_code == 400
    assert response.json() == {"error": "Request body is required"}


@pytest.mark.django_db
def test_malformed_json_is_refused_with_a_string_error(api_client, api_keys):
    # when
    response = api_client.post(URL, data="{not json", content_type="application/json",
                               HTTP_X_API_KEY=api_keys.customer)

    # then
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


@pytest.mark.django_db
def test_non_object_body_is_refused_when_a_list_is_sent(api_client, api_keys):
    # when
    response = _post(api_client, api_keys, [1, 2])

    # then
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


@pytest.mark.django_db
def test_first_answer_is_returned_when_the_idempotency_key_repeats(api_client, api_keys, application_body,
                                                                  outbox_nudges):
    # given
    first = _post(api_client, api_keys, application_body, HTTP_IDEMPOTENCY_KEY="apply-123")
    before = _counts()

    # when
    second = _post(api_client, api_keys, application_body, HTTP_IDEMPOTENCY_KEY="apply-123")

    # then
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert _counts() == before


@pytest.mark.django_db
def test_key_reuse_is_refused_when_the_body_differs(api_client, api_keys, application_body, outbox_nudges):
    # given
    _post(api_client, api_keys, application_body, HTTP_IDEMPOTENCY_KEY="apply-456")
    application_body["customerInfo"]["fullName"] = "別人 次郎"
    before = _counts()

    # when
    response = _post(api_client, api_keys, application_body, HTTP_IDEMPOTENCY_KEY="apply-456")

    # then
    assert response.status_code == 422
    assert _counts() == before


@pytest.mark.django_db
def test_two_applications_are_created_when_no_idempotency_key_is_sent(api_client, api_keys, application_body,
                                                                      outbox_nudges):
    # when
    first = _post(api_client, api_keys, application_body)
    second = _post(api_client, api_keys, application_body)

    # then
    assert first.json()["id"] != second.json()["id"]
    assert Application.objects.count() == 2


@pytest.mark.django_db
def test_request_is_refused_when_the_api_key_is_missing(api_client, api_keys, application_body):
    # when
    response = api_client.post(URL, application_body, format="json")

    # then
    assert response.status_code == 403
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_applications_from_one_address_are_throttled_with_429_when_the_write_rate_is_exceeded(
        api_client, api_keys, application_body, outbox_nudges, settings):
    # given a write rate of two per minute
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "100/min", "write": "2/min"}}
    assert [_post(api_client, api_keys, application_body).status_code for _ in range(2)] == [201, 201]
    before = _counts()
    # when a third application comes from the same address within the minute
    response = _post(api_client, api_keys, application_body)
    # then it is refused with the original's 429 body and nothing is written
    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"}
    assert int(response["Retry-After"]) > 0
    assert _counts() == before


@pytest.mark.django_db
def test_api_application_records_no_terms_consent_when_the_original_body_is_sent(api_client, api_keys,
                                                                                  application_body, outbox_nudges):
    # given the original SPA's body, which carries no terms field (the SPA checks its own box in the browser)
    # when
    response = _post(api_client, api_keys, application_body)
    # then the application is filed and its creation event says the server holds no consent record
    assert response.status_code == 201
    created = Event.objects.get(aggregate_id=response.json()["id"], version=1)
    assert created.data["termsConsent"] is None
