"""The harness actions that ship a change under load (E12): a release that differs from the running code in one
mail template, rolled out by a warm restart of the notify workers only; and the pure helpers that prove what the
release changed and which mails it rendered."""
from __future__ import annotations

import filecmp
import shutil
import tempfile
import time
from pathlib import Path

from resilience.environment import REPO_ROOT
from resilience.fault_actions import FaultActions

# What a release copy leaves out: the venv, git data, run output, caches and local databases.
RELEASE_IGNORED = (".venv", ".git", "results", "__pycache__", ".hypothesis", ".pytest_cache", "var", "node_modules",
                   "*.sqlite3", "*.pyc", "test-artifacts", ".import_linter_cache")
TRANSFER_MAIL_TEMPLATE = "templates/transfers/mail/completed.body.txt"
RELEASE_MARKER = "[template release E12]"


def release_prepare(dest: Path, *, template: str = TRANSFER_MAIL_TEMPLATE, marker: str = RELEASE_MARKER,
                    source: Path = REPO_ROOT) -> None:
    """Copy `source` to `dest` (without RELEASE_IGNORED) and append a line with `marker` to `template` there."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*RELEASE_IGNORED), symlinks=True)
    path = dest / template
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + f"\n{marker}\n", encoding="utf-8")


def tree_differences(left: Path, right: Path) -> list[str]:
    """Relative paths of files that differ between two trees, or exist in one only (RELEASE_IGNORED skipped)."""
    found: list[str] = []

    def walk(comparison: filecmp.dircmp, prefix: str) -> None:
        found.extend(prefix + name for name in (*comparison.left_only, *comparison.right_only, *comparison.diff_files,
                                                *comparison.funny_files))
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    ignore = [name for name in RELEASE_IGNORED if "*" not in name]
    walk(filecmp.dircmp(left, right, ignore=ignore), "")
    return sorted(name for name in found if not name.endswith((".pyc", ".sqlite3")))


def mail_marker_counts(mail_dir: Path, marker: str = RELEASE_MARKER, *, skip: frozenset[str] = frozenset()
                       ) -> dict[str, int]:
    """Messages the file-based mail backend wrote to `mail_dir` (one file per connection, messages separated by a
    line of 79 dashes) in files not named in `skip`, and how many of them carry `marker`."""
    messages = with_marker = 0
    for path in sorted(mail_dir.glob("*")) if mail_dir.is_dir() else []:
        if path.name in skip:
            continue
        for message in path.read_text(encoding="utf-8", errors="replace").split("\n" + "-" * 79 + "\n"):
            if message.strip():
                messages += 1
                with_marker += marker in message
    return {"messages": messages, "with_marker": with_marker}


class ChangeActions(FaultActions):
    """Actions that ship a change while W0 runs."""

    def template_release(self, *, role: str = "notify") -> None:
        """E12: build the release (this code + one changed mail template), start a `role` worker from it, then stop
        the old one warmly (SIGTERM: it finishes its tasks). Web and the core worker keep running."""
        started = time.monotonic()
        # Outside the repository, so no tool that walks the tree (ruff, the requirements check) sees a second copy.
        self._release_root = Path(tempfile.mkdtemp(prefix="resilience-e12-"))
        release = self._release_root / "release"
        release_prepare(release)
        changed = tree_differences(REPO_ROOT, release)
        mail_dir = Path(self.env.get("EMAIL_FILE_PATH", ""))
        self._mail_files_before_release = frozenset(path.name for path in mail_dir.glob("*")) \
            if mail_dir.is_dir() else frozenset()
        old = self.workers[role]
        self.worker_start(role, release_dir=release)
        self.procs.stop(old, grace_seconds=60)  # SIGTERM to the worker itself: it finishes its tasks, then exits
        rollout_s = round(time.monotonic() - started, 1)
        self.extra["e12"] = {"release_files_changed": changed, "release_file_count": len(changed),
                             "rollout_s": rollout_s, "released_at_s": round(time.time() - self.t0, 1),
                             "mail_dir": self.env.get("EMAIL_FILE_PATH", "")}
        self._record("template_release", role=role, changed=changed, old_pid=old.pid, seconds=rollout_s)

    def release_finish(self) -> None:
        """After the drain of a run that shipped a release: count the mails sent and those that used the released
        template, then roll the notify workers back to this code (warmly) for the experiments that follow."""
        if "e12" not in self.extra or not self.extra["e12"].get("mail_dir"):
            return
        counts = mail_marker_counts(Path(self.extra["e12"].pop("mail_dir")), skip=self._mail_files_before_release)
        self.extra["e12"].update({"mails_after_release": counts["messages"],
                                  "released_template_mails": counts["with_marker"]})
        self.worker_warm_restart(role="notify")
        shutil.rmtree(self._release_root, ignore_errors=True)


