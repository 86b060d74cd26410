"""E14 (resilience/debug_probes.py): the diagnosis rule reads a transfer's timeline and log lines; the truth comes
from the core's postings; the summary counts what the rule explained."""
import json

from resilience.criteria import criteria_evaluate, verdict
from resilience.debug_probes import KINDS, diagnose, e14_summary, log_lines_for, money_truth
from resilience.experiments_change import E14


def _event(event_type: str, *, leg: str | None = None, success: bool | None = None, code: str = "") -> dict:
    payload = {} if success is None else {"success": success, **({} if success else {"error": {"code": code}})}
    return {"type": event_type, "leg": leg, "payload": payload}


REQUESTED = [_event("TransferRequested"), _event("WithdrawRequested")]
WITHDRAWN = [_event("PROCESSING_STARTED", leg="WITHDRAW"), _event("WITHDRAW_PROCESSED", success=True),
             _event("DepositRequested")]
DEPOSITED = [_event("PROCESSING_STARTED", leg="DEPOSIT"), _event("DEPOSIT_PROCESSED", success=True),
             _event("TransferCompleted")]


def test_a_refused_withdrawal_leaves_the_money_untouched_and_names_the_code():
    timeline = {"events": [*REQUESTED, _event("PROCESSING_STARTED", leg="WITHDRAW"),
                           _event("WITHDRAW_PROCESSED", success=False, code="ACCOUNT_NOT_ACTIVE"),
                           _event("TransferFailed")]}
    found = diagnose(timeline, [])
    assert (found["money"], found["cause"]) == ("untouched", "withdraw_refused")
    assert "ACCOUNT_NOT_ACTIVE" in found["rule"]


def test_a_refused_deposit_is_a_refund():
    timeline = {"events": [*REQUESTED, *WITHDRAWN, _event("PROCESSING_STARTED", leg="DEPOSIT"),
                           _event("DEPOSIT_PROCESSED", success=False, code="ACCOUNT_NOT_ACTIVE"),
                           _event("CompensationRequested"), _event("PROCESSING_STARTED", leg="COMPENSATION"),
                           _event("COMPENSATION_PROCESSED", success=True), _event("TransferCompensated")]}
    assert diagnose(timeline, [])["cause"] == "deposit_refused"
    assert diagnose(timeline, [])["money"] == "refunded"


def test_a_leg_started_twice_is_a_lost_answer_when_the_log_says_so_and_a_dead_worker_otherwise():
    restarted = {"events": [*REQUESTED, _event("PROCESSING_STARTED", leg="WITHDRAW"), *WITHDRAWN, *DEPOSITED]}
    no_answer = [{"message": "core POST /api/transactions/withdraw -> no answer (timeout (ReadTimeout))",
                  "transaction_id": "T"}]
    assert diagnose(restarted, no_answer)["cause"] == "ambiguous_answer"
    assert diagnose(restarted, [])["cause"] == "worker_killed"
    assert diagnose(restarted, [])["money"] == "moved"


def test_a_leg_recorded_a_lease_after_it_started_is_a_dead_worker():
    # given a withdrawal whose result was recorded 61 s after the leg started (lease 60 s), nothing logged
    events = [*REQUESTED, {**_event("PROCESSING_STARTED", leg="WITHDRAW"), "timestamp": "2026-12-03T13:11:51.456Z"},
              {**_event("WITHDRAW_PROCESSED", leg="WITHDRAW", success=True), "timestamp": "2026-12-03T13:12:52.510Z"},
              *DEPOSITED]
    # then the worker died and the row was reclaimed; with a longer lease it is not called a dead worker
    assert diagnose({"events": events}, [], lease_s=60)["cause"] == "worker_killed"
    assert diagnose({"events": events}, [], lease_s=300)["cause"] == "none"


def test_a_raising_mail_handler_is_found_in_the_log_of_a_completed_transfer():
    timeline = {"events": [*REQUESTED, *WITHDRAWN, *DEPOSITED]}
    mail = [{"message": "outbox deliver raised message=9 key=k: InjectedBugError",
             "outbox_kind": "notify_transfer_completed"}]
    assert (diagnose(timeline, mail)["cause"], diagnose(timeline, mail)["money"]) == ("mail_error", "moved")
    assert diagnose(timeline, [])["cause"] == "none"


def test_money_truth_follows_the_core_postings():
    assert money_truth([]) == "untouched"
    assert money_truth(["TRANSFER_WITHDRAWAL", "TRANSFER_DEPOSIT"]) == "moved"
    assert money_truth(["TRANSFER_WITHDRAWAL", "TRANSFER_REFUND"]) == "refunded"
    assert money_truth(["TRANSFER_WITHDRAWAL"]) == "debited_only"


def test_log_lines_for_keeps_only_json_lines_of_that_transaction_in_time_order(tmp_path):
    (tmp_path / "web-1.log").write_text("plain line T1\n" + json.dumps({"time": "2", "transaction_id": "T1"}) + "\n")
    (tmp_path / "worker.log").write_text(json.dumps({"time": "1", "transaction_id": "T1", "message": "a"}) + "\n"
                                         + json.dumps({"time": "0", "transaction_id": "T10"}) + "\n")
    assert [line["time"] for line in log_lines_for(tmp_path, "T1")] == ["1", "2"]


def _probe(kind: str, *, cause: str | None = None, money: str = "moved", truth: str = "moved") -> dict:
    return {"kind": kind, "money": truth, "diagnosis": {"cause": cause or kind, "money": money, "rule": f"r-{kind}"}}


def test_e14_passes_only_when_every_planned_probe_was_explained():
    consistency = {"transfers": {"lost": 0, "doubled": 0}, "money": {"conservation_delta": 0},
                   "invariants": {"failed": 0}}
    good = [_probe(kind) for kind in KINDS]
    assert verdict(criteria_evaluate(E14.criteria, {**consistency, "e14": e14_summary(good, expected=5)})) == "PASS"
    wrong_cause = [*good[:4], _probe(KINDS[4], cause="none")]
    assert e14_summary(wrong_cause, expected=5)["undetermined"] == 1
    wrong_money = [*good[:4], _probe(KINDS[4], money="refunded")]
    assert verdict(criteria_evaluate(E14.criteria, {**consistency,
                                                    "e14": e14_summary(wrong_money, expected=5)})) == "FAIL"
    assert verdict(criteria_evaluate(E14.criteria, {**consistency, "e14": e14_summary(good, expected=20)})) == "FAIL"
