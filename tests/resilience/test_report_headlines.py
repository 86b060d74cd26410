"""resilience/report_headlines.py: the headlines of E8, E12 and E14 state their measured figures."""
from resilience.report_headlines import headline


def _result(code: str, kind: str, metrics: dict) -> dict:
    return {"id": code, "kind": kind, "verdict": "PASS", "metrics": metrics}


def test_e8_headline_gives_the_swap_size_and_the_three_test_runs():
    e8 = {"change_files": ["outbox/core_banking/wire_v2.py"], "change_insertions": 44, "change_deletions": 0,
          "files_outside_adapter": 0, "test_files_changed": 0, "v1_passed": 25, "v2_passed": 25, "v2_failed": 0,
          "control_failed": 12}
    text = headline(_result("E8", "static", {"e8": e8}))
    assert "1 file(s), +44 −0 lines, 0 outside the adapter" in text
    assert "v2 25 passed / 0 failed" in text and "12 failed" in text


def test_e12_headline_counts_failed_requests_and_new_template_mails():
    metrics = {"endpoints": {"balance": {"all": {"n": 100, "ok": 99}}, "transfer": {"all": {"n": 50, "ok": 50}}},
               "transfers": {"failed_or_compensated": 0, "lost": 0},
               "e12": {"release_file_count": 1, "release_files_changed": ["templates/t.txt"], "rollout_s": 5.6,
                       "released_at_s": 25.6, "released_template_mails": 114, "mails_after_release": 120}}
    text = headline(_result("E12", "load", metrics))
    assert "1 file (templates/t.txt)" in text and "failed requests 1;" in text
    assert "114 of 120 mails" in text


def test_e14_headline_names_the_failures_not_explained():
    probe = {"kind": "worker_killed", "money": "moved",
             "diagnosis": {"cause": "none", "money": "moved", "rule": "r"}}
    metrics = {"e14": {"determined": 4, "probes": 5, "kinds": {"worker_killed": 1}, "detail": [probe]}}
    text = headline(_result("E14", "load", metrics))
    assert text.startswith("4 of 5 injected failures")
    assert "not explained: worker_killed → none/moved (truth moved)" in text
