"""gunicorn settings shared by the web and core-mock processes: multi-process metrics housekeeping, span flush
and JSON logs. Loaded with `--config python:config.gunicorn_conf`, or without a flag through the repository's
`gunicorn.conf.py` (gunicorn reads that file from its working directory by default).

- on_starting (master, before any worker): picks the process group from the application (`config.wsgi_core`
  → `core`, anything else → `bank`), sets PROMETHEUS_MULTIPROC_DIR for every worker it will fork, and removes
  metric files of processes that no longer run (an earlier run).
- child_exit (master): prometheus-client's `mark_process_dead`, so a dead worker's live gauges disappear.
- worker_exit (worker): exports the spans still buffered.
"""
from __future__ import annotations

import os

from config.env import env
from config.observability.process import BANK, CORE, metrics_files_of_dead_processes_remove, process_group_enter

# gunicorn's own lines (master, workers, access log) in the same JSON form as the application's.
if env.str("LOG_FORMAT", default="json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.observability.logs.LogContextFilter"}},
        "formatters": {"json": {"()": "config.observability.logs.JsonLogFormatter"}},
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"],
                              "stream": "ext://sys.stderr"},
            "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"],
                        "stream": "ext://sys.stdout"},
        },
        # No levels: `--log-level` (gunicorn.error) and the access log switch keep deciding what is written.
        "loggers": {
            "gunicorn.error": {"handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "propagate": False},
        },
    }


def on_starting(server) -> None:
    app_uri = str(getattr(server.app, "app_uri", "") or server.cfg.wsgi_app or "")
    path = process_group_enter(CORE if "wsgi_core" in app_uri else BANK)
    removed = metrics_files_of_dead_processes_remove(path)
    server.log.info("metrics: multi-process dir %s (%s stale file(s) removed)", path, removed)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def worker_exit(server, worker) -> None:
    from config.observability import tracing

    tracing.flush()
