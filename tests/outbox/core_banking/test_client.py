"""The core client against the real mock over HTTP (core_server): every call, every outcome class (R20-R23)."""
import logging
import socket
from types import SimpleNamespace

import httpx
import pytest

from corebanking_mock import faults
from corebanking_mock.models import Account, Posting
from outbox.core_banking import client as core_client
from outbox.core_banking.client import CoreResult, Outcome

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "core"])

SOURCE, TARGET = "0011234567", "0017654321"


def _withdraw(key: str = "withdraw-TRX-1", *, account_id: str = SOURCE, amount: int = 10_000) -> CoreResult:
    return core_client.withdraw(account_id=account_id, amount=amount, description="振込出金 - Transaction ID: TRX-1",
                                target_account_id=TARGET, transfer_id="TRX-1", idempotency_key=key)


def _deposit(key: str = "deposit-TRX-1", *, account_id: str = TARGET, amount: int = 10_000,
             transaction_type: str = "TRANSFER_DEPOSIT") -> CoreResult:
    return core_client.deposit(account_id=account_id, amount=amount, description="振込入金 - Transaction ID: TRX-1",
                               source_account_id=SOURCE, transfer_id="TRX-1", idempotency_key=key,
                               transaction_type=transaction_type)


# --- success -----------------------------------------------------------------------------------


def test_provisioning_calls_succeed_when_core_is_up(core_server, core_db):
    # when
    customer = core_client.customer_create(customer_info={"fullName": "佐藤 花子", "email": "hanako@example.com"},
                                           idempotency_key="customer-APP-1")
    account = core_client.account_create(customer_id=customer.body["customerId"], account_type="SAVINGS",
                                         idempotency_key="account-APP-1")
    fetched_customer = core_client.customer_get(customer_id=customer.body["customerId"])
    fetched_account = core_client.account_get(account_id=account.body["accountId"])
    # then
    assert [r.outcome for r in (customer, account, fetched_customer, fetched_account)] == [Outcome.SUCCESS] * 4
    assert (customer.http_status, account.http_status) == (201, 201)
    assert fetched_customer.body["name"] == "佐藤 花子"
    assert fetched_account.body["balance"] == 1_000_000
    assert customer.error == "" and customer.replayed is False
    assert customer.elapsed_ms > 0


def test_transfer_legs_and_refund_succeed_and_show_in_history_when_core_is_up(core_server, core_db):
    # when
    withdrawn = _withdraw()
    deposited = _deposit()
    refunded = _deposit("refund-TRX-1", account_id=SOURCE, transaction_type="TRANSFER_REFUND")
    history = core_client.account_transactions(account_id=SOURCE)
    # then
    assert (withdrawn.outcome, deposited.outcome, refunded.outcome) == (Outcome.SUCCESS,) * 3
    assert withdrawn.body["newBalance"] == 9_990_000
    assert [t["type"] for t in history.body["transactions"][:2]] == ["TRANSFER_REFUND", "TRANSFER_WITHDRAWAL"]
    assert Account.objects.get(pk=SOURCE).balance == 10_000_000


def test_health_succeeds_when_core_is_up(core_server):
    # when
    result = core_client.health()
    # then
    assert (result.outcome, result.body) == (Outcome.SUCCESS, {"status": "ok"})


def test_replayed_flag_is_set_and_no_money_moves_when_the_same_call_is_repeated(core_server, core_db):
    # given
    first = _withdraw()
    # when
    second = _withdraw()
    # then
    assert (first.replayed, second.replayed) == (False, True)
    assert second.outcome is Outcome.SUCCESS
    assert second.body == first.body
    assert Posting.objects.filter(idempotency_key="withdraw-TRX-1").count() == 1


def test_lookup_returns_the_stored_answer_when_the_key_was_applied(core_server, core_db):
    # given
    applied = _withdraw()
    # when
    found = core_client.idempotency_lookup(key="withdraw-TRX-1")
    missing = core_client.idempotency_lookup(key="withdraw-TRX-never")
    # then
    assert (found.outcome, found.body["state"], found.body["response"]) == (Outcome.SUCCESS, "applied", applied.body)
    assert (missing.outcome, missing.http_status) == (Outcome.DEFINITE, 404)


# --- definite ----------------------------------------------------------------------------------


def test_insufficient_balance_is_definite_when_the_amount_is_too_large(core_server, core_db):
    # when
    result = _withdraw(amount=10_000_001)
    # then
    assert (result.outcome, result.http_status, result.error) == (Outcome.DEFINITE, 400, "Insufficient balance")
    assert result.body["currentBalance"] == 10_000_000


@pytest.mark.parametrize("call", [
    lambda: _withdraw(account_id="0010000000"),
    lambda: _deposit(account_id="0010000000"),
    lambda: core_client.account_get(account_id="0010000000"),
    lambda: core_client.customer_get(customer_id="CUST-000000"),
])
def test_unknown_account_or_customer_is_definite_when_called(core_server, core_db, call):
    # when
    result = call()
    # then
    assert (result.outcome, result.http_status) == (Outcome.DEFINITE, 404)


def test_frozen_target_is_definite_when_depositing(core_server, core_db):
    # given
    Account.objects.filter(pk=TARGET).update(status="FROZEN")
    # when
    result = _deposit()
    # then
    assert (result.outcome, result.http_status, result.error) == (Outcome.DEFINITE, 409, "Account is not active")
    assert result.body["status"] == "FROZEN"


def test_key_reuse_is_definite_when_the_request_differs(core_server, core_db):
    # given
    _withdraw()
    # when
    result = _withdraw(amount=1)
    # then
    assert (result.outcome, result.http_status) == (Outcome.DEFINITE, 422)


def test_voided_key_blocks_a_late_request_when_void_came_first(core_server, core_db):
    # when
    voided = core_client.idempotency_void(key="withdraw-TRX-1")
    late = _withdraw()
    too_late_void = core_client.idempotency_void(key="deposit-TRX-1") if _deposit().ok else None
    # then
    assert (voided.outcome, voided.body) == (Outcome.SUCCESS, {"key": "withdraw-TRX-1", "state": "voided"})
    assert (late.outcome, late.http_status) == (Outcome.DEFINITE, 409)
    assert too_late_void is not None
    assert (too_late_void.outcome, too_late_void.http_status) == (Outcome.DEFINITE, 409)
    assert too_late_void.body["response"]["message"] == "Deposit processed successfully"
    assert Account.objects.get(pk=SOURCE).balance == 10_000_000


# --- ambiguous ---------------------------------------------------------------------------------


def test_injected_error_is_ambiguous_when_core_answers_500(core_server, core_db):
    # given
    faults.fault_settings_update(group="transactions", mode="flaky", error_rate=1.0)
    # when
    result = _withdraw()
    # then
    assert (result.outcome, result.http_status, result.error) == (Outcome.AMBIGUOUS, 500, "Internal server error")


def test_down_core_is_ambiguous_when_it_answers_503(core_server, core_db):
    # given
    faults.fault_settings_update(mode="down")
    # when
    leg = _withdraw()
    probe = core_client.health()
    # then
    assert (leg.outcome, leg.http_status) == (Outcome.AMBIGUOUS, 503)
    assert (probe.outcome, probe.http_status) == (Outcome.AMBIGUOUS, 503)


def test_timeout_is_ambiguous_and_nothing_applied_when_core_hangs(core_server, core_db, settings):
    # given
    settings.CORE_BANKING_READ_TIMEOUT = 0.3
    faults.fault_settings_update(group="transactions", timeout_rate=1.0, hang_seconds=0.7)
    # when
    result = _withdraw()
    # then
    assert (result.outcome, result.http_status, result.body) == (Outcome.AMBIGUOUS, None, None)
    assert result.error.startswith("timeout")
    assert 250 <= result.elapsed_ms < 1000
    assert not Posting.objects.filter(idempotency_key="withdraw-TRX-1").exists()


def test_lost_reply_is_ambiguous_and_the_lookup_finds_it_applied_when_core_blackholes(core_server, core_db, settings):
    # given
    settings.CORE_BANKING_READ_TIMEOUT = 0.3
    faults.fault_settings_update(group="transactions", mode="blackhole_after_apply", hang_seconds=0.7)
    # when
    lost = _withdraw()
    lookup = core_client.idempotency_lookup(key="withdraw-TRX-1")
    faults.fault_settings_reset()
    retried = _withdraw()
    # then
    assert (lost.outcome, lost.http_status) == (Outcome.AMBIGUOUS, None)
    assert (lookup.outcome, lookup.body["state"], lookup.body["statusCode"]) == (Outcome.SUCCESS, "applied", 200)
    assert (retried.outcome, retried.replayed) == (Outcome.SUCCESS, True)
    assert Posting.objects.filter(idempotency_key="withdraw-TRX-1").count() == 1


def test_connection_refused_is_ambiguous_when_nothing_listens(settings):
    # given a port that was just free
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CORE_BANKING_URL = f"http://127.0.0.1:{port}"
    # when
    result = _withdraw()
    # then
    assert (result.outcome, result.http_status) == (Outcome.AMBIGUOUS, None)
    assert result.error.startswith("transport error (ConnectError")


def test_wrong_api_key_is_ambiguous_when_core_answers_401(core_server, core_db, monkeypatch):
    # given the client (only) sends another key
    from django.conf import settings as django_settings

    client_settings = SimpleNamespace(**{name: getattr(django_settings, name) for name in (
        "CORE_BANKING_URL", "CORE_BANKING_CONNECT_TIMEOUT", "CORE_BANKING_READ_TIMEOUT")},
        CORE_BANKING_API_KEY="not-the-key")
    monkeypatch.setattr(core_client, "settings", client_settings)
    # when
    result = core_client.account_get(account_id=SOURCE)
    # then
    assert (result.outcome, result.http_status) == (Outcome.AMBIGUOUS, 401)


def test_wrong_base_path_is_ambiguous_when_core_answers_endpoint_not_found(core_server, core_db, settings):
    # given
    settings.CORE_BANKING_URL = core_server.url + "/v2"
    # when
    result = _withdraw()
    # then
    assert (result.outcome, result.http_status, result.error) == (Outcome.AMBIGUOUS, 404, "Endpoint not found")


# --- the client itself -------------------------------------------------------------------------


def test_headers_carry_the_key_and_idempotency_key_when_moving_money(monkeypatch, settings):
    # given
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"transactionId": "WTH1"}, headers={"Idempotent-Replayed": "true"})

    settings.CORE_BANKING_URL = "http://core.test/"
    monkeypatch.setattr(core_client, "_http_client", lambda: httpx.Client(transport=httpx.MockTransport(answer)))
    # when
    result = _withdraw()
    # then
    request = seen[0]
    assert str(request.url) == "http://core.test/api/transactions/withdraw"
    assert request.headers["X-API-Key"] == settings.CORE_BANKING_API_KEY
    assert request.headers["Idempotency-Key"] == "withdraw-TRX-1"
    assert result.replayed is True


def test_path_segments_are_escaped_when_ids_contain_reserved_characters(monkeypatch):
    # given
    seen: list[str] = []
    monkeypatch.setattr(core_client, "_http_client", lambda: httpx.Client(transport=httpx.MockTransport(
        lambda request: seen.append(request.url.raw_path.decode()) or httpx.Response(404, json={"error": "x"}))))
    # when
    core_client.idempotency_lookup(key="a/b?c")
    # then
    assert seen == ["/api/idempotency/a%2Fb%3Fc"]


def test_api_key_is_never_logged_when_calls_succeed_or_fail(core_server, core_db, caplog, settings):
    # given
    caplog.set_level(logging.DEBUG)
    # when
    _withdraw()
    _withdraw(amount=10**11)
    faults.fault_settings_update(mode="down")
    core_client.account_get(account_id=SOURCE)
    # then
    assert caplog.text
    assert settings.CORE_BANKING_API_KEY not in caplog.text


def test_pooled_client_is_reused_in_a_process_and_recreated_after_fork_when_the_pid_changes(monkeypatch):
    # given
    core_client.close_client()
    first = core_client._http_client()
    again = core_client._http_client()
    real_pid = core_client.os.getpid()
    # when
    monkeypatch.setattr(core_client.os, "getpid", lambda: real_pid + 1)
    in_child = core_client._http_client()
    # then
    assert first is again
    assert in_child is not first
    assert not first.is_closed  # the parent's sockets are left alone
    core_client.close_client()
    first.close()


def test_empty_idempotency_key_is_a_programming_error_when_moving_money():
    with pytest.raises(ValueError):
        _withdraw(key="")
