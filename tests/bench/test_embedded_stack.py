"""`bench/transfers.py --embedded` (bench/tx_embedded.py): its stack is the embedded default `make run` starts (SQLite
files, filesystem broker, one relay worker), it completes transfers end to end, it reports CPU per completed transfer
of the stack's process groups, and it leaves no process behind.

Runs `python -m bench.tx_embedded smoke` in a subprocess: the benchmark sets Django up with its own environment
(fresh temporary var dir, no server URL), which the test process, already set up with the test settings, cannot.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO_ROOT = Path(__file__).resolve().parents[2]
TRANSFERS = 10


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_embedded_stack_completes_transfers_reports_cpu_per_transfer_and_stops_everything(tmp_path):
    # given no server URL in the environment (the benchmark builds its children's environment itself)
    env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "TMPDIR")}
    # when the embedded stack is started and the ring sends a handful of transfers
    done = subprocess.run([sys.executable, "-m", "bench.tx_embedded", "smoke", str(TRANSFERS), str(tmp_path)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # then the stack was the embedded default: SQLite with the project's options, the filesystem broker's threads
    stack = report["stack"]
    assert stack["database_options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in stack["database_options"]["init_command"]
    assert stack["broker"].startswith("filesystem://")
    assert (stack["worker_pool"], stack["relay_concurrency"]) == ("threads", 1)
    # and every transfer was accepted and completed through the relay worker and the core mock
    assert (report["db"]["accepted"], report["db"]["completed"], report["db"]["not_completed"]) == (
        TRANSFERS, TRANSFERS, 0)
    # and CPU per completed transfer is reported for each process group that does a transfer's work
    cpu = report["cpu_ms_per_completed_transfer"]
    for group in ("web", "relay worker", "core mock"):
        assert cpu[group] > 0, cpu
    assert cpu["total"] >= cpu["web"] + cpu["relay worker"] + cpu["core mock"]
    assert all(report["peak_rss_mib"][group] for group in ("web", "relay worker", "beat", "core mock"))
    # and no process of the stack outlives the run
    assert report["pids"] and not [pid for pid in report["pids"] if _alive(pid)]
