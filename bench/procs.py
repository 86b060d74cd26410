"""Load children of the benchmark. Starting and stopping children (Child, Processes, wait_for_log) is
resilience.processes', CPU accounting resilience.cpu's (re-exported here).

Load children (raw loop, HTTP load) follow a small line protocol on stdin/stdout: print `ready`, wait for `go`,
work, print one JSON line, wait for stdin to close.
"""
from __future__ import annotations

import json
import select
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from resilience.cpu import CpuMeter as _CpuMeter
from resilience.cpu import _process_table, machine_busy_share  # noqa: F401 - bench's modules import them from here
from resilience.environment import VENV_BIN
from resilience.processes import Child, Processes

# --- the load children's line protocol --------------------------------------------------------------


def child_wait_for_go() -> None:
    """In a load child: announce readiness and block until the parent says go."""
    print("ready", flush=True)
    sys.stdin.readline()


def child_report(result: dict[str, Any]) -> None:
    """In a load child: print the result as one JSON line, then stay alive until the parent closes stdin
    (so the parent can read this process's CPU time before it exits)."""
    print(json.dumps(result), flush=True)
    sys.stdin.read()


def _read_line(child: Child, *, timeout: float) -> str:
    stdout = child.popen.stdout
    ready, _, _ = select.select([stdout], [], [], timeout)
    line = stdout.readline() if ready else ""
    if not line:
        raise RuntimeError(f"{child.name} sent nothing within {timeout}s:\n{child.log_tail()}")
    return line.strip()


def children_await_ready(children: list[Child], *, timeout: float = 60.0) -> None:
    """Wait until every load child said `ready`."""
    for child in children:
        if _read_line(child, timeout=timeout) != "ready":
            raise RuntimeError(f"{child.name} did not say ready:\n{child.log_tail()}")


def children_go(children: list[Child]) -> None:
    """Release every (ready) load child at once."""
    for child in children:
        child.popen.stdin.write("go\n")
        child.popen.stdin.flush()


def children_results(children: list[Child], *, timeout: float) -> list[dict[str, Any]]:
    """The JSON result line of every load child."""
    return [json.loads(_read_line(child, timeout=timeout)) for child in children]


def children_measure(procs: Processes, children: list[Child], *, roots: dict[str, list[int]],
                     timeout: float) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Release the load children together once all are ready, collect their reports and the CPU use of
    `roots` over that window, then stop them (also on error)."""
    try:
        children_await_ready(children)
        meter = CpuMeter(roots).start()
        children_go(children)
        reports = children_results(children, timeout=timeout)
        return reports, meter.stop()
    finally:
        for child in children:
            procs.stop(child)


# --- CPU accounting ------------------------------------------------------------------------------------
# resilience/cpu.py (the resilience harness's E6 measures with it too); this process is labelled "bench".


@dataclass
class CpuMeter(_CpuMeter):
    self_label: str = "bench"
    others_label: str = "not the bench"


def core_mock_process_start(procs: Processes, *, port: int, workers: int, threads: int) -> Child:
    """The core-banking mock under gunicorn (gthread) on `port`, started by `procs`, once it answers /healthz."""
    core_mock = procs.start("core-mock", [
        str(VENV_BIN / "gunicorn"), "config.wsgi_core:application", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return core_mock
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"core mock did not answer:\n{core_mock.log_tail()}")
