"""Every command in the documentation is run by a test or by CI (issue 10).

The convention (docs/operations.md §0 repeats it for writers):

- A fenced block whose info string is ``bash runnable`` is run by `test_runnable_block`, in document order, each
  block in a fresh ``bash -euo pipefail`` from the project root, against a temporary stack: ``make run`` on the
  embedded default (SQLite + filesystem broker) in a temporary ``BANK_VAR_DIR``, on free ports. Before running,
  ``127.0.0.1:8000`` / ``127.0.0.1:8001`` in the block are replaced by the stack's web / core ports, and
  ``CORE_BANKING_URL`` points the block's ``manage.py`` commands at the stack's core. The block must exit 0.
- A line ``# expect: <text>`` inside a runnable block asserts that the block's output (stdout + stderr)
  contains ``<text>``. It is an ordinary shell comment, so a reader can paste the block as it is.
- Every other shell block (``bash``, ``sh``, ``shell``, ``console``) in README.md and the documents this
  issue owns must be preceded by ``<!-- not-runnable: <why; what runs it instead> -->``: for instance the
  failover and PITR steps on real servers, which `test_failover_rehearsal` runs for real through
  docs/scripts/failover-rehearsal.sh (slow; needs root and /usr/lib/postgresql/15/bin, skipped otherwise).
- Test references ``tests/<path>.py::test_<name>`` in those documents must name existing tests, and relative
  links must resolve (docs/resilience-report.md is written by another job and may not exist yet).
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.run_stack import RunStack
from tests.fixtures.stack import NOT_INHERITED

ROOT = Path(__file__).resolve().parents[1]
OWNED_DOCS = ("README.md", "docs/architecture.md", "docs/guide.md", "docs/operations.md", "docs/fisc-mapping.md")
# Runnable blocks are taken from every document (others may opt in); the annotation rule binds the owned ones.
ALL_DOCS = ("README.md", *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md")))
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
NOT_RUNNABLE = re.compile(r"<!--\s*not-runnable:\s*\S.*?-->", re.S)
EXPECT = re.compile(r"^\s*# expect: (.+?)\s*$", re.M)
LINKS_MAY_BE_MISSING = {"docs/resilience-report.md"}
FAILOVER_SCRIPT = ROOT / "docs" / "scripts" / "failover-rehearsal.sh"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
BLOCK_TIMEOUT_SECONDS = 90


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    language: str
    runnable: bool
    annotated: bool
    text: str

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


def blocks_of(document: str) -> list[Block]:
    """The fenced code blocks of one Markdown file, with their info string and the comment before them."""
    lines = (ROOT / document).read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = re.match(r"^(\s*)(```+|~~~+)\s*(.*)$", lines[index])
        if not opening:
            index += 1
            continue
        fence, info = opening.group(2), opening.group(3).split()
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        before = "\n".join(lines[max(0, index - 3):index])
        language = info[0].lower() if info else ""
        blocks.append(Block(document=document, line=index + 1, language=language,
                            runnable=language == "bash" and "runnable" in info[1:],
                            annotated=bool(NOT_RUNNABLE.search(before)), text="\n".join(lines[index + 1:end])))
        index = end + 1
    return blocks


def runnable_blocks() -> list[Block]:
    return [block for document in ALL_DOCS for block in blocks_of(document) if block.runnable]


# --- static checks (fast) -------------------------------------------------------------------------------


def test_every_shell_block_is_runnable_or_says_what_runs_it():
    # given the shell blocks of the owned documents
    blocks = [block for document in OWNED_DOCS for block in blocks_of(document) if block.language in SHELL_LANGUAGES]
    # then each one is either run here or says what runs it instead
    assert blocks, "the owned documents contain shell blocks"
    unmarked = [block.name for block in blocks if not block.runnable and not block.annotated]
    assert not unmarked, f"shell blocks neither `bash runnable` nor <!-- not-runnable: … -->: {unmarked}"


def test_every_referenced_test_exists():
    # given every `tests/…py::test_…` reference in the owned documents
    references = set()
    for document in OWNED_DOCS:
        references |= set(re.findall(r"(tests/[\w/]+\.py)::(test_\w+)", (ROOT / document).read_text(encoding="utf-8")))
    # then the file exists and defines that test function
    assert len(references) > 20, "the FISC mapping names its tests"
    missing = [f"{path}::{name}" for path, name in sorted(references)
               if not (ROOT / path).is_file()
               or not re.search(rf"^\s*def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M)]
    assert not missing, f"documented tests that do not exist: {missing}"


def test_relative_links_and_images_resolve():
    # given the relative links and images of the owned documents
    broken = []
    for document in OWNED_DOCS:
        text = (ROOT / document).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = ((ROOT / document).parent / target.split("#")[0]).resolve()
            relative = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
            if not path.exists() and relative not in LINKS_MAY_BE_MISSING:
                broken.append(f"{document} → {target}")
    # then each one exists
    assert not broken, f"broken links: {broken}"


# --- runnable blocks against a temporary `make run` stack ------------------------------------------------


@dataclass(frozen=True)
class Stack:
    web_port: int
    core_port: int
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """`make run` (web, core mock, worker, beat) on the embedded default in a temporary var dir; Ctrl-C at the end."""
    tmp = tmp_path_factory.mktemp("docs-stack")
    run = RunStack(var_dir=tmp / "var", log_path=tmp / "run.log", own_secrets=False).start()
    try:
        run.wait_healthy()
        block_env = {**run.environment(), "CORE_BANKING_URL": run.core_url}
        # The read model is filled by the worker's start-up sync; make sure it happened before the blocks run.
        subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "sync_core"], cwd=ROOT, env=block_env,
                       check=True, capture_output=True, timeout=60)
        yield Stack(web_port=run.web_port, core_port=run.core_port, env=block_env, log=run.log_path)
    finally:
        run.stop()


@pytest.mark.slow
@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda block: block.name)
def test_runnable_block(block: Block, stack: Stack):
    # given the block, pointed at the temporary stack
    script = (block.text.replace("127.0.0.1:8000", f"127.0.0.1:{stack.web_port}")
              .replace("127.0.0.1:8001", f"127.0.0.1:{stack.core_port}"))
    # when it runs
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=stack.env,
                            capture_output=True, text=True, timeout=BLOCK_TIMEOUT_SECONDS)
    output = result.stdout + result.stderr
    # then it succeeds and prints what the document says it prints
    assert result.returncode == 0, f"{block.name} exited {result.returncode}:\n{output[-4000:]}"
    missing = [fragment for fragment in EXPECT.findall(block.text) if fragment not in output]
    assert not missing, f"{block.name}: output lacks {missing}:\n{output[-4000:]}"


# --- the failover and PITR rehearsal (backs every non-runnable database block) ---------------------------


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
@pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason=f"needs PostgreSQL 15 server binaries in {PG_BIN} "
                                                              "(apt-get install postgresql-15)")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the script runs the PostgreSQL servers as the postgres "
                                               "OS user through runuser")
def test_failover_rehearsal():
    busy = [port for port in (5440, 5441, 5442) if _port_in_use(port)]
    if busy:
        pytest.skip(f"ports {busy} are in use (another rehearsal running?); the script never touches them")
    # given a clean environment (the script builds its own clusters, var dir and ports)
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    # when the rehearsal runs
    result = subprocess.run([str(FAILOVER_SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    # then every step passed: in-flight work survived the promotion and drained, invariants hold, PITR worked
    assert result.returncode == 0, output[-5000:]
    for fragment in ("replication: walreceiver streaming", "cannot execute CREATE TABLE in a read-only transaction",
                     "pg_is_in_recovery() = f", "in flight:              1", "reclaimed after the failover",
                     "0011234567: match", "starting point-in-time recovery", "restored bank database: transfers 0",
                     "REHEARSAL OK"):
        assert fragment in output, f"missing {fragment!r}:\n{output[-5000:]}"
    assert "FAIL " not in output, output[-5000:]
    # and it removed its temporary directory (its clusters, logs and var dir)
    work_dir = re.search(r"^work dir (\S+);", output, re.M)
    assert work_dir and not Path(work_dir.group(1)).exists()
