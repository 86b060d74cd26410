"""Fault injection switches (flows.md §6.0): each knob does what it says, and only to its group."""
import random
import time

import pytest

from corebanking_mock import faults
from corebanking_mock.models import Account, IdempotencyRecord, Posting

pytestmark = pytest.mark.django_db(databases=["default", "core"])

SOURCE = "0011234567"
WITHDRAW = "/api/transactions/withdraw"


def _withdraw(core_api, key: str, amount: int = 100):
    return core_api.post(WITHDRAW, {"accountId": SOURCE, "amount": amount}, idempotency_key=key)


def test_request_is_delayed_when_latency_is_set(core_api, core_db):
    # given
    faults.fault_settings_update(group="accounts", mode="slow", latency_ms=150)
    # when
    started = time.monotonic()
    response = core_api.get(f"/api/accounts/{SOURCE}")
    elapsed = time.monotonic() - started
    # then
    assert response.status_code == 200
    assert 0.14 <= elapsed < 2


def test_every_request_is_500_and_nothing_moves_when_error_rate_is_one(core_api, core_db):
    # given
    faults.fault_settings_update(group="transactions", mode="flaky", error_rate=1.0)
    # when
    answers = [_withdraw(core_api, f"withdraw-{i}") for i in range(5)]
    # then
    assert {response.status_code for response in answers} == {500}
    assert answers[0].json() == {"error": "Internal server error", "fault": "error"}
    assert (Posting.objects.count(), IdempotencyRecord.objects.count()) == (5, 0)
    assert Account.objects.get(pk=SOURCE).balance == 10_000_000


def test_other_groups_are_untouched_when_one_group_is_faulty(core_api, core_db):
    # given
    faults.fault_settings_update(group="transactions", mode="down")
    # when
    withdraw = _withdraw(core_api, "withdraw-1")
    account = core_api.get(f"/api/accounts/{SOURCE}")
    health = core_api.get("/core/health", api_key=None)
    # then
    assert withdraw.status_code == 503
    assert (account.status_code, health.status_code) == (200, 200)


def test_every_route_and_health_are_503_without_checking_the_key_when_all_is_down(core_api, core_db):
    # given
    faults.fault_settings_update(mode="down")
    # when
    answers = [core_api.get(f"/api/accounts/{SOURCE}", api_key=None), core_api.get("/api/customers/CUST001"),
               _withdraw(core_api, "withdraw-1"), core_api.get("/api/idempotency/x"),
               core_api.get("/core/health", api_key=None)]
    # then
    assert [response.status_code for response in answers] == [503] * 5
    assert answers[0].json() == {"error": "Service unavailable", "fault": "down"}
    assert Posting.objects.count() == 5


def test_request_hangs_then_504_with_nothing_applied_when_timeout_rate_is_one(core_api, core_db):
    # given
    faults.fault_settings_update(group="transactions", timeout_rate=1.0, hang_seconds=0.2)
    # when
    started = time.monotonic()
    response = _withdraw(core_api, "withdraw-1")
    elapsed = time.monotonic() - started
    # then
    assert response.status_code == 504
    assert elapsed >= 0.19
    assert (Posting.objects.count(), IdempotencyRecord.objects.count()) == (5, 0)


def test_effect_is_committed_but_the_answer_is_lost_when_blackhole_after_apply_is_set(core_api, core_db):
    # given
    faults.fault_settings_update(group="transactions", mode="blackhole_after_apply", hang_seconds=0.1)
    # when
    lost = _withdraw(core_api, "withdraw-1")
    faults.fault_settings_reset()
    retried = _withdraw(core_api, "withdraw-1")
    # then
    assert lost.status_code == 504
    assert lost.json()["fault"] == "blackhole_after_apply"
    assert Posting.objects.filter(idempotency_key="withdraw-1").count() == 1
    assert (retried.status_code, retried.headers["Idempotent-Replayed"]) == (200, "true")
    assert Account.objects.get(pk=SOURCE).balance == 10_000_000 - 100


def test_blackhole_does_not_hang_a_replay_when_the_key_was_already_applied(core_api, core_db):
    # given
    _withdraw(core_api, "withdraw-1")
    faults.fault_settings_update(group="transactions", mode="blackhole_after_apply", hang_seconds=5)
    # when
    started = time.monotonic()
    replay = _withdraw(core_api, "withdraw-1")
    # then
    assert replay.status_code == 200
    assert time.monotonic() - started < 2


def _status_sequence(core_api, count: int) -> list[int]:
    return [core_api.get(f"/api/accounts/{SOURCE}").status_code for _ in range(count)]


def test_same_requests_fail_when_a_seeded_setting_is_applied_again(core_api, core_db):
    # given
    faults.fault_settings_update(group="accounts", mode="flaky", error_rate=0.5, seed=7)
    first_run = _status_sequence(core_api, 12)
    # when the same setting is written again (new revision: the generator is re-seeded)
    faults.fault_settings_update(group="accounts", mode="up")
    faults.fault_settings_update(group="accounts", mode="flaky", error_rate=0.5, seed=7)
    second_run = _status_sequence(core_api, 12)
    # then
    generator = random.Random(7)
    expected = []
    for _ in range(12):
        error_roll, _timeout_roll, _blackhole_roll = generator.random(), generator.random(), generator.random()
        expected.append(500 if error_roll < 0.5 else 200)
    assert first_run == second_run == expected
    assert {200, 500} <= set(first_run)


def test_fault_ends_by_itself_when_its_duration_has_passed(core_api, core_db):
    # given
    faults.fault_settings_update(mode="down", duration_s=0.3)
    during = core_api.get("/core/health", api_key=None).status_code
    # when
    time.sleep(0.35)
    after = core_api.get("/core/health", api_key=None).status_code
    # then
    assert (during, after) == (503, 200)


def test_modes_add_up_and_up_clears_when_set_one_after_another(core_db):
    # given
    faults.fault_settings_update(group="transactions", mode="slow", latency_ms=10)
    # when
    combined = faults.fault_settings_update(group="transactions", mode="flaky", error_rate=0.2)
    cleared = faults.fault_settings_update(group="transactions", mode="up")
    # then
    assert (combined["latency_ms"], combined["error_rate"], combined["active"]) == (10, 0.2, True)
    assert (cleared["latency_ms"], cleared["error_rate"], cleared["active"]) == (0, 0.0, False)


def test_group_and_all_are_combined_when_both_are_set(core_db):
    # given
    faults.fault_settings_update(mode="slow", latency_ms=30)
    faults.fault_settings_update(group="accounts", error_rate=1.0, hang_seconds=0.5)
    # when
    plan = faults.fault_plan_for(group="accounts")
    # then
    assert (plan.latency_ms, plan.error, plan.down, plan.hang_seconds) == (30, True, False, 0.5)
    assert faults.fault_plan_for(group="customers").error is False


def test_nothing_is_injected_when_fault_injection_is_disabled(core_api, core_db, settings):
    # given
    faults.fault_settings_update(mode="down")
    settings.CORE_MOCK_FAULTS_ENABLED = False
    # when
    response = core_api.get(f"/api/accounts/{SOURCE}")
    # then
    assert response.status_code == 200
    assert faults.fault_plan_for(group="accounts") is faults.NO_FAULTS


def test_environment_baseline_applies_until_all_is_set_when_configured(core_api, core_db, settings):
    # given
    settings.CORE_MOCK_FAULT_DOWN = True
    baseline = core_api.get("/core/health", api_key=None).status_code
    # when
    faults.fault_settings_update(mode="up")
    overridden = core_api.get("/core/health", api_key=None).status_code
    faults.fault_settings_reset()
    after_reset = core_api.get("/core/health", api_key=None).status_code
    # then
    assert (baseline, overridden, after_reset) == (503, 200, 503)
    assert faults.fault_settings_snapshot()["groups"]["all"]["source"] == "env"


@pytest.mark.parametrize("kwargs", [{"group": "payments"}, {"mode": "sideways"}, {"colour": "red"}])
def test_update_is_refused_when_a_name_is_unknown(core_db, kwargs):
    with pytest.raises(ValueError):
        faults.fault_settings_update(**kwargs)
