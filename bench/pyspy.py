"""py-spy profiles of a scenario: record a process tree's CPU samples, then summarise where they went."""
from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from resilience.environment import VENV_BIN
from resilience.processes import Processes

# A pool process sample outside any task: it waits for its next drain message (Celery hop between batches).
BETWEEN_TASKS = "between tasks (waiting for the next drain message)"
# What a sample's innermost frame was doing (first match on "file:function" wins).
_AREAS = (
    ("waiting for PostgreSQL", re.compile(r"(^|/)psycopg/.*:.*\bwait")),
    ("psycopg (PostgreSQL driver)", re.compile(r"(^|/)psycopg/")),
    ("Django ORM / db layer", re.compile(r"(^|/)django/db/")),
    ("httpx / httpcore (HTTP client)", re.compile(r"(^|/)(httpx|httpcore|h11)/")),
    ("waiting on a socket (HTTP reply, broker)", re.compile(r"(^|/)(socket|selectors|ssl)\.py:")),
    ("Celery / kombu / billiard / redis client", re.compile(r"(^|/)(celery|kombu|billiard|redis|vine|amqp)/")),
    ("outbox relay code", re.compile(r"(^|/)outbox/")),
    ("logging", re.compile(r"(^|/)logging/")),
)
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>.+?)(?::\d+)?\)$")


@contextmanager
def pyspy_record(procs: Processes, *, pid: int, output: Path) -> Iterator[None]:
    """Sample `pid` and its subprocesses with py-spy into collapsed stacks: non-blocking, idle samples kept
    (a wall-clock profile: a relay process waiting for PostgreSQL or the core mock is what bounds it)."""
    recorder = procs.start(f"py-spy-{output.stem}", [
        str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
        "--idle", "--format", "raw", "--output", str(output), "--duration", "600"])
    time.sleep(1.5)  # attach to every process first
    try:
        yield
    finally:
        os.kill(recorder.pid, signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            recorder.popen.wait(timeout=30)
        finally:
            procs.stop(recorder)


def _parse(line: str) -> tuple[int, list[tuple[str, str]], int]:
    """(process depth, [(function, file)] outermost first, sample count) of one collapsed-stack line.

    py-spy can print a frame name that contains a line break (a string it read as a name); the pieces of
    such a line carry no sample count and are skipped (count 0)."""
    stack, _, count_text = line.rpartition(" ")
    if not count_text.isdigit():
        return 0, [], 0
    depth, frames = 0, []
    for frame in stack.split(";"):
        if frame.startswith("process "):
            depth += 1
        elif (match := _FRAME.match(frame)) and match["file"].endswith(".py"):
            frames.append((match["function"], match["file"]))
    return depth, frames, int(count_text)


def profile_summary(path: Path, *, watched: tuple[str, ...], top: int = 8) -> dict[str, Any]:
    """Wall-clock shares over the pool processes (the worker's children; the supervising parent, which only
    waits on the broker, is left out): samples between tasks, then per area of the innermost frame; inclusive
    per `watched` function (`file suffix:function suffix`); the top functions by own samples."""
    areas: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        depth, frames, count = _parse(line)
        if depth < 2 or not frames:
            continue
        total += count
        innermost = f"{frames[-1][1]}:{frames[-1][0]}"
        if not any(function.endswith("trace_task") for function, _ in frames):
            areas[BETWEEN_TASKS] += count
        else:
            areas[next((name for name, pattern in _AREAS if pattern.search(innermost)), "other")] += count
        own[f"{Path(frames[-1][1]).name}:{frames[-1][0]}"] += count
        for key in watched:
            file_suffix, function_suffix = key.split(":")
            if any(file.endswith(file_suffix) and function.endswith(function_suffix) for function, file in frames):
                inclusive[key] += count

    def share(counter: Counter[str], limit: int | None = None) -> dict[str, float]:
        return {key: round(100 * value / total, 1) for key, value in counter.most_common(limit)} if total else {}

    return {"samples": total, "areas_pct": share(areas), "watched_pct": share(inclusive),
            "top_own_pct": share(own, top)}
