"""Tracing switched on in a fresh process (the test process itself stays untraced): the exporter each setting
selects, and the psycopg instrumentation producing a span per SQL statement on PostgreSQL."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config.observability import tracing

PROBE = """
import django, sys
django.setup()
from django.db import connection
from config.observability import tracing
assert tracing.enabled()
with tracing.span("probe"):
    carrier = tracing.context_carrier()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
tracing.flush()
print(tracing.trace_id_from_carrier(carrier))
"""


def test_each_exporter_setting_selects_its_exporter(tmp_path):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    assert isinstance(tracing._span_exporter("otlp", str(tmp_path / "x")), OTLPSpanExporter)
    assert isinstance(tracing._span_exporter("file", str(tmp_path / "spans.jsonl")), tracing.JsonLinesSpanExporter)
    with pytest.raises(ValueError):
        tracing._span_exporter("zipkin", str(tmp_path / "x"))


@pytest.mark.postgres
def test_sql_statements_are_spans_of_the_current_trace_when_tracing_is_on_with_postgresql(tmp_path):
    # given a process with the file exporter on the test run's PostgreSQL databases
    spans_path = tmp_path / "spans.jsonl"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "TRACING_EXPORTER": "file",
           "TRACING_FILE": str(spans_path)}
    # when it runs one query inside a span
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    trace_id = result.stdout.strip().splitlines()[-1]
    # then the query is a client span of PostgreSQL in the same trace, under the probe span
    spans = [json.loads(line) for line in spans_path.read_text().splitlines()]
    in_trace = [span for span in spans if span["context"]["trace_id"] == f"0x{trace_id}"]
    sql = [span for span in in_trace if span["kind"] == "SpanKind.CLIENT"]
    assert sql and all(span["attributes"].get("db.system", span["attributes"].get("db.system.name")) == "postgresql"
                       for span in sql), in_trace
    (probe,) = [span for span in in_trace if span["name"] == "probe"]
    assert any(span["parent_id"] == probe["context"]["span_id"] for span in sql)
