"""Observability of every process: Prometheus metrics (metrics.py, collectors.py, views.py), OpenTelemetry
tracing (tracing.py), JSON logs with correlation ids (logs.py), the HTTP middleware that feeds the first and
third (middleware.py) and the process hooks of gunicorn and Celery (process.py). docs/operations.md §9."""
