"""Which process group this process belongs to, and where its metric files go.

prometheus-client's multi-process mode keeps one set of memory-mapped files per process in
PROMETHEUS_MULTIPROC_DIR and sums them at scrape time. The bank's processes (web workers, Celery worker and its
prefork children, beat, management commands) share `<METRICS_DIR>/bank`; the core-banking mock, which stands for
another system, writes to `<METRICS_DIR>/core`. The variable must be set before prometheus-client is first
imported, so the entry points call `process_group_enter` before Django is set up.

The directory is always derived here, never trusted from the parent's environment: a test process or a shell
that exported it for its own stack must not send another stack's metrics into its files.
"""
from __future__ import annotations

import glob
import os
import re
import sys

from config.env import VAR_DIR, env

BANK, CORE = "bank", "core"
_PID_IN_FILE_NAME = re.compile(r"_(\d+)\.db$")
_group = BANK


def metrics_dir_root() -> str:
    """METRICS_DIR (default `var/metrics`)."""
    return env.str("METRICS_DIR", default=str(VAR_DIR / "metrics"))


def metrics_dir(group: str) -> str:
    return os.path.join(metrics_dir_root(), group)


def process_group() -> str:
    """`core` once the core mock's entry point ran in this process, else `bank`."""
    return _group


def process_group_enter(group: str) -> str:
    """Put this process (and the children it forks) in `group`: PROMETHEUS_MULTIPROC_DIR becomes the group's
    directory under METRICS_DIR. prometheus-client reads the variable whenever it creates a value, so once it is
    loaded the directory is left as it is (a test process that imports the core entry point keeps its own).
    Returns the directory in use."""
    global _group
    _group = group
    if "prometheus_client" not in sys.modules:
        path = metrics_dir(group)
        os.makedirs(path, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return os.environ["PROMETHEUS_MULTIPROC_DIR"]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def metrics_files_of_dead_processes_remove(path: str) -> int:
    """Delete the metric files of processes that no longer run (an earlier run of the stack, a finished
    management command). Called when a process group starts; counters of live processes are kept. Returns the
    number of files removed."""
    removed = 0
    for file_path in glob.glob(os.path.join(path, "*.db")):
        match = _PID_IN_FILE_NAME.search(os.path.basename(file_path))
        if match and not _pid_alive(int(match.group(1))):
            try:
                os.remove(file_path)
                removed += 1
            except FileNotFoundError:
                pass
    return removed
