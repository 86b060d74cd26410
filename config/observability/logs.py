"""Log lines that say which transfer, application and trace they belong to.

`log_context(transaction_id=…)` (a context manager) and `log_context_bind(…)` (for the rest of the enclosing
scope, e.g. one HTTP request) put correlation fields in a context variable; `LogContextFilter` copies them, and
the current trace and span ids when tracing is on, onto every log record; `JsonLogFormatter` writes one JSON
object per line (python-json-logger), `PlainLogFormatter` appends them as `key=value` for humans.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from config.observability import tracing

# Fields a log line may carry, in the order the plain format prints them.
CONTEXT_FIELDS = ("trace_id", "span_id", "transaction_id", "application_id", "aggregate_id", "outbox_key",
                  "outbox_kind")

_log_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("bank_log_context", default=None)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Within the block, every log line carries `fields` (None values are left out), on top of the outer ones."""
    token = _log_context.set({**(_log_context.get() or {}),
                              **{name: str(value) for name, value in fields.items() if value is not None}})
    try:
        yield
    finally:
        _log_context.reset(token)


def log_context_bind(**fields: Any) -> None:
    """Add `fields` to the enclosing `log_context` scope (an HTTP request, a relay delivery) until it ends.
    Outside any scope it does nothing: a binding that no block ends would leak into unrelated later lines."""
    current = _log_context.get()
    if current is None:
        return
    _log_context.set({**current, **{name: str(value) for name, value in fields.items() if value is not None}})


def log_context_fields() -> dict[str, str]:
    """The correlation fields a log line written now would carry."""
    fields = dict(_log_context.get() or {})
    ids = tracing.current_ids()
    if ids is not None:
        fields["trace_id"], fields["span_id"] = ids
    return fields


class LogContextFilter(logging.Filter):
    """Copies the correlation fields onto each record (attributes the formatters know by CONTEXT_FIELDS)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context_fields().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonLogFormatter(JsonFormatter):
    """`{"time", "level", "logger", "message", "process", …correlation fields, …extra}` on one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s %(process)d")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")  # ISO 8601 in UTC
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)


class PlainLogFormatter(logging.Formatter):
    """The human-readable line, followed by the correlation fields the record carries (`key=value`)."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS
                 if name != "span_id" and getattr(record, name, None)]
        return f"{line} [{' '.join(pairs)}]" if pairs else line


def correlation_fields_for_aggregate(aggregate_id: str) -> dict[str, str]:
    """The log fields that name an aggregate: `transaction_id` for a transfer (`transfer-{transactionId}`,
    transfers/events.py), `application_id` for an account application (`APP-…`), else `aggregate_id`."""
    if aggregate_id.startswith("transfer-"):
        return {"transaction_id": aggregate_id.removeprefix("transfer-")}
    if aggregate_id.startswith("APP-"):
        return {"application_id": aggregate_id}
    return {"aggregate_id": aggregate_id}
