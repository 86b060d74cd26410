"""resilience/report.py: rendering docs/resilience-report.md from a small fixture of run JSON."""
import copy

import pytest

from resilience import report

RUN = {
    "variant": "run", "variant_note": "", "stack": {}, "rates": {"balance": 20.0},
    "timing": {"duration_s": 4, "fault_start_s": 1, "fault_end_s": 3, "drain_wait_s": 10},
    "metrics": {
        "endpoints": {"balance": {"baseline": {"n": 20, "ok": 20, "availability": 1.0, "p50": 5.0, "p95": 9.0,
                                               "max": 12.0, "codes": {"200": 20}},
                                  "fault": {"n": 40, "ok": 40, "availability": 1.0, "p50": 6.0, "p95": 10.0,
                                            "max": 15.0, "codes": {"200": 40}},
                                  "after": None, "p95_ratio_fault_vs_baseline": 1.11}},
        "transfers": {"lost": 0, "doubled": 0, "delayed": 7, "delayed_e2e_s": {"p50": 10.0, "p95": 20.0, "max": 25.0},
                      "by_phase": {"COMPLETED": 12}, "e2e_s": {"p50": 0.2, "p95": 0.4, "max": 25.0}},
        "money": {"conservation_delta": 0}, "invariants": {"failed": 0, "failing": []},
        "outbox": {"max_open": 43, "drain_s": 5.0}, "requests": 60,
    },
    "actions": [{"t": 1.0, "action": "core_fault", "mode": "down"}],
    "series": {"balance": {"t": [0, 1, 2, 3], "n": [20, 20, 20, 0], "ok": [20, 20, 20, 0],
                           "p50": [5.0, 6.0, 6.0, None], "p95": [9.0, 10.0, 10.0, None]}},
    "samples": [{"t": float(t), "ok": True, "outbox": {"open": t, "open_core": t, "open_notify": 0, "dead": 0,
                                                       "oldest_pending_age_s": 0.0},
                 "transfers": {"COMPLETED": 3 * t}} for t in range(4)],
}
E1 = {"id": "E1", "title": "Core banking down for 30 s under W0", "dimension": "blast radius", "kind": "load",
      "hypothesis": "h", "method": "m", "rollback": "r", "original": "400 on transfer requests",
      "criteria": [{"label": "transfers.lost == 0", "metric": "transfers.lost", "op": "==", "target": 0,
                    "value": 0, "passed": True}],
      "verdict": "PASS", "metrics": RUN["metrics"], "runs": [RUN], "notes": [], "error": ""}
E7 = {"id": "E7", "title": "Static coupling", "dimension": "coupling", "kind": "static", "hypothesis": "",
      "method": "", "rollback": "", "original": "", "criteria": [], "verdict": "NOT RUN: module missing",
      "metrics": {}, "runs": [], "notes": [], "error": "module missing"}
RECORD = {"started_at": "2026-11-25T06:00:00+00:00", "quick": False, "duration_s": 400, "commit": "abc1234",
          "machine": {"nproc": 2, "cpu_model": "Test CPU", "ram_gib": 8.0, "postgres": "15", "redis": "7"},
          "stack": {"web": "gunicorn", "workers": "celery", "core_mock": "gunicorn", "w0": {"accounts": 100}},
          "experiments": [E1, E7], "_file": "resilience-full.json"}


def test_report_shows_machine_commit_verdicts_criteria_and_the_original_behaviour():
    # when
    markdown = report.render([RECORD], make_charts=False)
    # then
    assert "2 cores (Test CPU), 8.0 GiB RAM" in markdown
    assert "`abc1234`" in markdown
    assert "| E1 | Core banking down for 30 s under W0 | blast radius | PASS |" in markdown
    assert "| transfers.lost == 0 | 0 | == 0 | PASS |" in markdown
    assert "7 transfers delayed" in markdown and "drained 5.0 s after recovery" in markdown
    assert "*Original microservice sample in the same situation*: 400 on transfer requests" in markdown
    assert "| E7 | Static coupling | coupling | NOT RUN: module missing |" in markdown
    for dimension in ("Coupling", "Flexibility", "Scalability", "Blast radius", "Complexity", "Consistency"):
        assert f"### {dimension}" in markdown
    assert "Whole-process failure is a whole-application outage (E4)" in markdown


def test_a_full_run_wins_over_a_newer_quick_run_and_a_not_run_never_hides_a_result():
    # given
    quick = copy.deepcopy(RECORD) | {"quick": True, "started_at": "2026-11-26T00:00:00+00:00", "_file": "q.json"}
    quick["experiments"][0]["verdict"] = "FAIL"
    not_run = copy.deepcopy(RECORD) | {"started_at": "2026-11-27T00:00:00+00:00", "_file": "n.json"}
    not_run["experiments"] = [dict(E1, verdict="NOT RUN: stack failed", runs=[])]
    # when
    chosen = report.newest_per_experiment([RECORD, quick, not_run])
    # then
    assert chosen["E1"][0]["verdict"] == "PASS"
    assert chosen["E1"][1]["_file"] == "resilience-full.json"


def test_charts_are_written_as_png_with_the_fault_window(tmp_path):
    pytest.importorskip("matplotlib")
    # when
    markdown = report.render([RECORD], charts_dir=tmp_path)
    # then
    assert (tmp_path / "E1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![E1-run](resilience/E1.png)" in markdown


def test_a_run_that_inherits_or_leaves_open_work_says_so_and_a_drained_run_says_nothing():
    # given: a second variant that started while the first one's mails were still queued
    inherited = copy.deepcopy(RUN)
    inherited["metrics"]["drain"] = {"before": {"outbox_open": 2071, "applications_open": 41},
                                     "left": {"outbox_open": 0, "applications_open": 0}}
    drained = copy.deepcopy(RUN)
    drained["metrics"]["drain"] = {"before": {"outbox_open": 0, "applications_open": 0},
                                   "left": {"outbox_open": 0, "applications_open": 0}}
    # when
    inherited_markdown = report.render([{**RECORD, "experiments": [{**E1, "runs": [inherited]}]}],
                                       make_charts=False)
    drained_markdown = report.render([{**RECORD, "experiments": [{**E1, "runs": [drained]}]}], make_charts=False)
    # then
    assert ("This run started with 2,071 outbox rows and 41 applications still open from the run before it"
            in inherited_markdown)
    assert "still open" not in drained_markdown
