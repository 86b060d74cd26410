"""Celery signal handlers: the application's logging (JSON lines) instead of Celery's own, metric files of
pool children, and span flushing before a process ends. Connected by config/celery.py."""
from __future__ import annotations

import logging.config
import os

from celery.signals import setup_logging, worker_init, worker_process_shutdown, worker_shutdown


def _logging_from_django(**_kwargs) -> None:
    """With a receiver connected Celery leaves logging alone; apply the project's LOGGING (JSON or plain)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def _worker_starts(**_kwargs) -> None:
    """Main worker process, before the pool forks: forget metric files of processes that no longer run."""
    from config.observability.process import metrics_files_of_dead_processes_remove

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        metrics_files_of_dead_processes_remove(path)


def _pool_child_ends(pid: int | None = None, **_kwargs) -> None:
    """A prefork child is exiting (it skips atexit): export its spans, drop its live gauges."""
    from prometheus_client import multiprocess

    from config.observability import tracing

    tracing.flush()
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        multiprocess.mark_process_dead(pid or os.getpid(), path)


def _worker_ends(**_kwargs) -> None:
    from config.observability import tracing

    tracing.flush()


def celery_hooks_connect() -> None:
    setup_logging.connect(_logging_from_django, weak=False)
    worker_init.connect(_worker_starts, weak=False)
    worker_process_shutdown.connect(_pool_child_ends, weak=False)
    worker_shutdown.connect(_worker_ends, weak=False)
