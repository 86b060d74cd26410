"""Lockout after repeated failures (django-axes; flows.md R33): 5 per login id, 5 per client address, 15 minutes."""
from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.fixtures.auth import CUSTOMER_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN_URL = "/v1/api/auth/login"
LOCKED = {"code": "ACCOUNT_LOCKED", "message": "Account is temporarily locked"}


def _login(client, login_id, password, ip="203.0.113.10"):
    return client.post(LOGIN_URL, {"loginId": login_id, "password": password}, format="json", REMOTE_ADDR=ip)


def _assert_locked(response) -> None:
    assert response.status_code == 401
    error = response.json()["error"]
    assert {"code": error["code"], "message": error["message"]} == LOCKED
    assert set(error) == {"code", "message", "timestamp"}


def test_login_is_locked_when_five_failures_for_one_login_id_from_many_addresses(api_client, customer_user):
    # given four failures from four addresses
    for n in range(4):
        assert _login(api_client, "user901", "wrong", ip=f"203.0.113.{n}").json()["error"]["code"] == \
            "INVALID_CREDENTIALS"
    # when the fifth failure comes
    fifth = _login(api_client, "user901", "wrong", ip="203.0.113.99")
    # then it locks, and even the right password from a fresh address is refused
    _assert_locked(fifth)
    _assert_locked(_login(api_client, "user901", CUSTOMER_PASSWORD, ip="198.51.100.1"))


def test_login_is_locked_when_five_failures_from_one_address_over_many_login_ids(api_client, customer_user):
    # given one client spraying five different login ids
    for n in range(5):
        _login(api_client, f"victim{n}", "wrong", ip="203.0.113.50")
    # when that address tries a valid login
    response = _login(api_client, "user901", CUSTOMER_PASSWORD, ip="203.0.113.50")
    # then it is locked; the same login from another address works
    _assert_locked(response)
    assert _login(api_client, "user901", CUSTOMER_PASSWORD, ip="203.0.113.51").status_code == 200


def test_login_failures_reset_when_the_owner_logs_in_successfully(api_client, customer_user):
    # given four failures
    for _ in range(4):
        _login(api_client, "user901", "wrong")
    # when the owner logs in, then fails four more times
    assert _login(api_client, "user901", CUSTOMER_PASSWORD).status_code == 200
    for _ in range(4):
        _login(api_client, "user901", "wrong")
    # then the account is not locked
    assert _login(api_client, "user901", CUSTOMER_PASSWORD).status_code == 200


def test_login_failures_of_a_victim_survive_when_the_attacker_logs_into_their_own_account(
        api_client, customer_user, other_customer_user):
    # given an attacker at one address guessing user901 four times
    for _ in range(4):
        _login(api_client, "user901", "wrong", ip="203.0.113.66")
    # when the attacker logs into their own account from the same address
    assert _login(api_client, "user902", CUSTOMER_PASSWORD, ip="203.0.113.66").status_code == 200
    # then user901's count was not reset: one more guess from anywhere locks it
    _assert_locked(_login(api_client, "user901", "wrong", ip="198.51.100.2"))


def test_login_is_not_extended_when_attempts_arrive_during_the_lock(api_client, customer_user):
    # given a lock
    for _ in range(5):
        _login(api_client, "user901", "wrong")
    failures = AccessAttempt.objects.get(username="user901").failures_since_start
    # when more attempts arrive while locked
    for _ in range(3):
        _assert_locked(_login(api_client, "user901", "wrong"))
    # then they are not counted (the lock ends 15 minutes after the fifth failure)
    assert AccessAttempt.objects.get(username="user901").failures_since_start == failures


def test_login_works_again_when_the_cool_off_has_passed(api_client, customer_user):
    # given a lock whose failures are older than 15 minutes
    for _ in range(5):
        _login(api_client, "user901", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=15, seconds=1))
    # when
    response = _login(api_client, "user901", CUSTOMER_PASSWORD)
    # then
    assert response.status_code == 200


def test_lockout_answer_carries_cors_headers_when_called_from_the_spa(api_client, customer_user):
    # given
    for _ in range(5):
        _login(api_client, "user901", "wrong")
    # when
    response = api_client.post(LOGIN_URL, {"loginId": "user901", "password": CUSTOMER_PASSWORD}, format="json",
                               REMOTE_ADDR="203.0.113.10", HTTP_ORIGIN="http://localhost:3000")
    # then
    _assert_locked(response)
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
