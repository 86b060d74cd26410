"""resilience/change_actions.py: the E12 release differs from the code in one template line, the mail count
reads the file backend's messages, and E12's verdict follows its figures."""
from resilience.change_actions import (
    RELEASE_MARKER,
    TRANSFER_MAIL_TEMPLATE,
    mail_marker_counts,
    release_prepare,
    tree_differences,
)
from resilience.criteria import criteria_evaluate, verdict
from resilience.experiments_change import E12

SEPARATOR = "\n" + "-" * 79 + "\n"


def test_tree_differences_lists_only_the_changed_file(tmp_path):
    # given two trees that differ in one template and share everything else
    for root in ("a", "b"):
        (tmp_path / root / "templates" / "mail").mkdir(parents=True)
        (tmp_path / root / "app.py").write_text("x = 1\n")
        (tmp_path / root / "templates" / "mail" / "t.txt").write_text("hello\n")
    (tmp_path / "b" / "templates" / "mail" / "t.txt").write_text(f"hello\n{RELEASE_MARKER}\n")
    (tmp_path / "b" / "__pycache__").mkdir()
    (tmp_path / "b" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    # then only the template differs (caches ignored)
    assert tree_differences(tmp_path / "a", tmp_path / "b") == ["templates/mail/t.txt"]


def test_mail_marker_counts_counts_messages_per_file_and_those_with_the_marker(tmp_path):
    # given two connection files, one written before the release
    (tmp_path / "old.log").write_text("Subject: a\n\nold body" + SEPARATOR)
    (tmp_path / "new.log").write_text("Subject: b\n\nbody" + SEPARATOR + f"Subject: c\n\nbody {RELEASE_MARKER}"
                                      + SEPARATOR)
    # then
    assert mail_marker_counts(tmp_path) == {"messages": 3, "with_marker": 1}
    assert mail_marker_counts(tmp_path, skip=frozenset({"old.log"})) == {"messages": 2, "with_marker": 1}


def _metrics(*, failed_requests: int = 0, changed: int = 1, released_mails: int = 5, interrupted: int = 0) -> dict:
    endpoints = {name: {"all": {"availability": 1.0 if name != "transfer" or not failed_requests else 0.99}}
                 for name in ("balance", "transactions", "transfer", "application", "confirm")}
    return {"endpoints": endpoints,
            "transfers": {"failed_or_compensated": interrupted, "lost": 0, "doubled": 0},
            "money": {"conservation_delta": 0}, "invariants": {"failed": 0},
            "mails": {"completed_without_exactly_one": 0},
            "e12": {"release_file_count": changed, "released_template_mails": released_mails}}


def test_e12_passes_only_when_nothing_fails_one_file_changed_and_the_new_template_is_live():
    assert verdict(criteria_evaluate(E12.criteria, _metrics())) == "PASS"
    assert verdict(criteria_evaluate(E12.criteria, _metrics(failed_requests=1))) == "FAIL"
    assert verdict(criteria_evaluate(E12.criteria, _metrics(interrupted=1))) == "FAIL"
    assert verdict(criteria_evaluate(E12.criteria, _metrics(changed=2))) == "FAIL"
    assert verdict(criteria_evaluate(E12.criteria, _metrics(released_mails=0))) == "FAIL"


def test_release_prepare_copies_the_code_and_changes_only_the_mail_template(tmp_path):
    # given a small source tree with the transfer mail template and a cache directory
    source = tmp_path / "src"
    (source / "templates" / "transfers" / "mail").mkdir(parents=True)
    (source / TRANSFER_MAIL_TEMPLATE).write_text("Dear customer\n")
    (source / "manage.py").write_text("print()\n")
    (source / "results").mkdir()
    (source / "results" / "run.json").write_text("{}")
    # when the release is built
    release_prepare(tmp_path / "release", source=source)
    # then it differs in the template only, which ends with the marker, and run output is not copied
    assert tree_differences(source, tmp_path / "release") == [TRANSFER_MAIL_TEMPLATE]
    assert (tmp_path / "release" / TRANSFER_MAIL_TEMPLATE).read_text().endswith(f"{RELEASE_MARKER}\n")
    assert not (tmp_path / "release" / "results").exists()
