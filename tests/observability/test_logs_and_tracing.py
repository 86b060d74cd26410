"""JSON log lines with correlation ids, tracing off by default (nothing stored, nothing instrumented), the
trace id read back from an outbox row for the staff pages, and the metric-file housekeeping of process starts."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from django.db import transaction

from config.observability import tracing
from config.observability.logs import (
    JsonLogFormatter,
    LogContextFilter,
    PlainLogFormatter,
    correlation_fields_for_aggregate,
    log_context,
    log_context_bind,
)
from config.observability.process import metrics_files_of_dead_processes_remove
from outbox.models import OutboxMessage
from outbox.selectors import outbox_trace_id_for_aggregate
from outbox.services import outbox_enqueue
from tests.fixtures.outbox import ScriptedHandler

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _record(message: str = "outbox delivery succeeded") -> logging.LogRecord:
    record = logging.LogRecord("bank.outbox.relay", logging.INFO, __file__, 1, message, None, None)
    LogContextFilter().filter(record)
    return record


def test_json_line_carries_the_correlation_fields_of_its_context():
    # given a relay delivery's context
    fields = correlation_fields_for_aggregate("transfer-abc")
    with log_context(outbox_key="withdraw-abc", outbox_kind="withdraw", **fields):
        record = _record()
    # when it is formatted
    line = json.loads(JsonLogFormatter().format(record))
    # then it is one JSON object with level, logger, time and the ids
    assert line["message"] == "outbox delivery succeeded"
    assert (line["level"], line["logger"]) == ("INFO", "bank.outbox.relay")
    assert (line["transaction_id"], line["outbox_key"], line["outbox_kind"]) == ("abc", "withdraw-abc", "withdraw")
    assert line["time"].endswith("+00:00")


def test_context_ends_with_its_block_and_bind_adds_to_the_enclosing_one():
    with log_context():
        log_context_bind(application_id="APP-0123456789abcdef")
        inside = _record()
    after = _record()
    assert inside.application_id == "APP-0123456789abcdef"
    assert not hasattr(after, "application_id")


def test_bind_outside_any_scope_leaks_nothing_into_later_lines():
    # given a service that binds its id while called outside a request or delivery (a shell, a test)
    log_context_bind(transaction_id="leaky")
    # then later lines of the same thread do not carry it
    assert not hasattr(_record(), "transaction_id")


def test_plain_line_appends_the_fields_for_humans():
    with log_context(application_id="APP-1"):
        record = _record("mail sent")
    line = PlainLogFormatter("%(levelname)s %(name)s %(message)s").format(record)
    assert line == "INFO bank.outbox.relay mail sent [application_id=APP-1]"


def test_aggregate_ids_map_to_the_field_an_operator_searches():
    assert correlation_fields_for_aggregate("transfer-0a1b") == {"transaction_id": "0a1b"}
    assert correlation_fields_for_aggregate("APP-0a1b") == {"application_id": "APP-0a1b"}
    assert correlation_fields_for_aggregate("other-1") == {"aggregate_id": "other-1"}


def test_tracing_is_off_and_stores_no_context_when_not_configured(db, register_outbox_handler):
    # given the default configuration (TRACING_EXPORTER=none outside DEBUG)
    register_outbox_handler("observability_probe", ScriptedHandler(queue="notify"))
    # when a row is enqueued
    with transaction.atomic():
        message = outbox_enqueue(key="observability-probe-1", kind="observability_probe", aggregate_id="transfer-p1")
    # then tracing is not installed, nothing is stored with the row and no trace id is logged
    assert not tracing.enabled()
    assert OutboxMessage.objects.get(id=message.id).trace_context is None
    assert tracing.current_ids() is None and tracing.context_carrier() is None
    assert not hasattr(_record(), "trace_id")
    assert outbox_trace_id_for_aggregate(aggregate_id="transfer-p1") is None


def test_tracing_off_imports_no_opentelemetry_sdk_when_a_process_starts():
    # given a fresh process with the default settings: Django set up, tracing's helpers called
    code = ("import django, sys; django.setup(); from config.observability import tracing; "
            "tracing.context_carrier(); tracing.current_ids(); "
            "print(sorted(name for name in sys.modules if name.startswith('opentelemetry.sdk') or "
            "name.startswith('opentelemetry.instrumentation')))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "TRACING_EXPORTER": "none"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    # then neither the SDK nor any instrumentation was loaded
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_trace_id_is_read_from_the_first_traced_row_of_an_aggregate(db):
    # given two rows of one transfer, the first stored with the request's trace context
    OutboxMessage.objects.create(key="withdraw-t1", kind="withdraw", queue="core", aggregate_id="transfer-t1",
                                 max_attempts=10, trace_context={"traceparent": TRACEPARENT})
    OutboxMessage.objects.create(key="deposit-t1", kind="deposit", queue="core", aggregate_id="transfer-t1",
                                 max_attempts=10, trace_context=None)
    # then the staff pages' selector finds the trace id
    assert outbox_trace_id_for_aggregate(aggregate_id="transfer-t1") == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_malformed_traceparent_yields_no_trace_id():
    assert tracing.trace_id_from_carrier({"traceparent": "garbage"}) is None
    assert tracing.trace_id_from_carrier({"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"}) is None
    assert tracing.trace_id_from_carrier(None) is None


def test_process_start_removes_metric_files_of_dead_processes_only(tmp_path):
    # given the files of this (live) process and of a process that has exited
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    live = [tmp_path / f"counter_{os.getpid()}.db", tmp_path / f"gauge_livemax_{os.getpid()}.db"]
    dead = [tmp_path / f"counter_{dead_pid}.db", tmp_path / f"histogram_{dead_pid}.db"]
    for path in (*live, *dead):
        path.write_bytes(b"\0")
    # when a process group starts
    removed = metrics_files_of_dead_processes_remove(str(tmp_path))
    # then only the dead process's files are gone
    assert removed == 2
    assert all(path.exists() for path in live) and not any(path.exists() for path in dead)
