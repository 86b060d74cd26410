"""resilience/processes.py: how the harness and the benchmarks stop a child and its process tree.

Real processes: a "worker" leader whose own child is doing a piece of work, as a Celery worker's pool child
runs a drain. Stopping the leader must let that work finish (SIGTERM to the leader only), and must still leave
no process of the group behind, also when the leader ignores SIGTERM.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from resilience.processes import Processes

# The leader starts a child that needs `work_seconds` to write the marker file (its "task"). On SIGTERM the
# leader waits for that child, as a warm shutdown does, then exits; with `ignore` it ignores SIGTERM instead.
LEADER = """
import signal, subprocess, sys, time
marker, work_seconds, on_term = sys.argv[1], float(sys.argv[2]), sys.argv[3]
child = subprocess.Popen([sys.executable, "-c",
    "import sys, time; time.sleep(float(sys.argv[2])); open(sys.argv[1], 'w').write('done')",
    marker, str(work_seconds)])
def warm_stop(*_):
    child.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, warm_stop if on_term == "warm" else signal.SIG_IGN)
print(child.pid, flush=True)
while True:
    time.sleep(0.05)
"""


def _group_alive(pgid: int) -> bool:
    """True while a process of group `pgid` runs. A killed process whose parent died stays a zombie until init
    reaps it, and a zombie still "exists" for kill(2): so read the states from /proc instead."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state != "Z":
            return True
    return False


def _start_leader(procs: Processes, marker, *, work_seconds: float, on_term: str):
    leader = procs.start("leader", [sys.executable, "-c", LEADER, str(marker), str(work_seconds), on_term],
                         piped=True)
    assert int(leader.popen.stdout.readline()) > 0  # its child has started
    return leader


@pytest.fixture
def procs(tmp_path):
    with Processes(log_dir=tmp_path / "logs", env=dict(os.environ)) as processes:
        yield processes


def test_stop_lets_the_leader_finish_the_work_in_hand_then_nothing_of_its_group_is_left(procs, tmp_path):
    # given a leader whose child is half-way through a 1 s piece of work
    marker = tmp_path / "work-done"
    leader = _start_leader(procs, marker, work_seconds=1.0, on_term="warm")
    time.sleep(0.3)
    # when the leader is stopped
    procs.stop(leader, grace_seconds=10)
    # then the child was not signalled: its work finished and it exited on its own
    assert marker.read_text() == "done"
    assert leader.popen.returncode == 0
    # and no process of the group is left
    assert not _group_alive(leader.pid)


def test_a_leader_that_ignores_sigterm_is_killed_with_its_group_after_the_grace_period(procs, tmp_path):
    # given a leader that ignores SIGTERM, with a child that would work for a minute
    marker = tmp_path / "work-done"
    leader = _start_leader(procs, marker, work_seconds=60.0, on_term="ignore")
    # when it is stopped with a short grace period
    started = time.monotonic()
    procs.stop(leader, grace_seconds=0.5)
    # then the grace period was waited, and then the whole group was killed
    assert time.monotonic() - started >= 0.5
    assert leader.popen.returncode == -signal.SIGKILL
    assert not _group_alive(leader.pid)
    assert not marker.exists()
