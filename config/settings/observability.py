"""Observability: Prometheus metrics (multi-process), OpenTelemetry tracing and the log format.

Metrics are always collected; tracing is off unless TRACING_EXPORTER says otherwise (with DEBUG on, as in
`make run`, it defaults to a local JSON-lines file). docs/operations.md §10 explains how to use them.
"""
from config.env import VAR_DIR, env
from config.observability.process import metrics_dir_root, process_group, process_group_enter

# Root of the prometheus-client multi-process files. Each process group writes to its own sub-directory
# (`bank`: web, Celery worker and beat, management commands; `core`: the core-banking mock), so the bank's
# /metrics sums every bank process and the core mock's /metrics only the mock's (config/observability/process.py).
METRICS_DIR = metrics_dir_root()
# Who may read GET /metrics. With a token set, only `Authorization: Bearer <token>`; without one, clients on the
# loopback interface while DEBUG is on (the `make run` default) and nobody when it is off, so production needs it.
METRICS_BEARER_TOKEN = env.str("METRICS_BEARER_TOKEN", default="")

# Tracing: `none` (default without DEBUG: nothing is instrumented, nothing costs), `file` (JSON lines under
# var/, the DEBUG default), `otlp` (OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, read by the exporter
# itself) or `console` (stdout, for a quick look).
TRACING_EXPORTER = env.str("TRACING_EXPORTER", default="file" if env.bool("DEBUG", default=False) else "none")
TRACING_FILE = env.str("TRACING_FILE", default=str(VAR_DIR / "traces" / "spans.jsonl"))
# The `service.name` resource of this process's spans; the core mock's process adds `-core`.
TRACING_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="bank")
# Share of new traces recorded (parent-based: a trace started upstream keeps its decision).
TRACING_SAMPLE_RATIO = env.float("TRACING_SAMPLE_RATIO", default=1.0)

# prometheus-client reads PROMETHEUS_MULTIPROC_DIR whenever it creates a value, so it is set here, before any
# metric module is imported. The core mock's entry point (config/wsgi_core.py) has put its process in the `core`
# group; every other process is `bank`.
PROMETHEUS_MULTIPROC_DIR = process_group_enter(process_group())
