"""OpenTelemetry tracing: one trace from the customer's request through the outbox row, the relay's Celery
task and the core-banking call to the core mock's handling, the recording step and the mail.

`tracing_setup()` runs once per process (config/apps.py). With TRACING_EXPORTER=none (the default outside
DEBUG) it does nothing at all: no SDK, no instrumentation, and every helper here returns at its first line,
so tracing off costs one boolean test per call. Otherwise it installs the SDK with the configured exporter and
the OpenTelemetry instrumentations for Django (server spans; the core mock's too), Celery (publish and run
spans, context in the task headers), httpx (client spans, `traceparent` on the core call) and psycopg.

The outbox row carries the trace across the commit: `context_carrier()` is stored with the row
(`OutboxMessage.trace_context`, W3C `traceparent`), and the relay continues it with `span_from_carrier()`. A
later request that adds work to the same transfer or application (a staff approval, an operator's abort) joins
the aggregate's first trace and is linked (`LINK_KEY`), so each transfer and each application is one trace.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

logger = logging.getLogger("bank.tracing")

_enabled = False
# Key of a stored carrier that names a second trace to link to (the request that added work to an older trace).
LINK_KEY = "link_traceparent"
_setup_lock = threading.Lock()
_provider: Any = None
TRACER_NAME = "bank"


def enabled() -> bool:
    """True once this process exports spans."""
    return _enabled


def tracing_setup(*, exporter: str, service_name: str, file_path: str, sample_ratio: float = 1.0) -> bool:
    """Install the SDK, the exporter and the instrumentations (once per process). Returns whether tracing is on."""
    global _enabled, _provider
    if exporter == "none" or _enabled:
        return _enabled
    with _setup_lock:
        if _enabled:
            return True
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        provider = TracerProvider(resource=Resource.create({"service.name": service_name}),
                                  sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
        # A local file is read by someone waiting for it: write about every second, not every five.
        delay_millis = 1000 if exporter in ("file", "console") else 5000
        provider.add_span_processor(BatchSpanProcessor(_span_exporter(exporter, file_path),
                                                       schedule_delay_millis=delay_millis))
        trace.set_tracer_provider(provider)
        _provider = provider
        _instrument()
        _enabled = True
        logger.debug("tracing on: exporter=%s service=%s", exporter, service_name)
        return True


def _span_exporter(exporter: str, file_path: str) -> Any:
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint, headers, timeout from the standard OTEL_EXPORTER_OTLP_* variables
    if exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if exporter == "file":
        return JsonLinesSpanExporter(file_path)
    raise ValueError(f"TRACING_EXPORTER must be none, file, otlp or console, not {exporter!r}")


def _instrument() -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    # Health checks and the metrics scrape would be most of the spans and tell nothing about a transfer.
    DjangoInstrumentor().instrument(excluded_urls="healthz,metrics,static/")
    CeleryInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    PsycopgInstrumentor().instrument(skip_dep_check=True)


def flush(timeout_millis: int = 5000) -> None:
    """Export the spans still buffered (before a worker process exits without running atexit handlers)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis)


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the current span, or None (tracing off, or no span)."""
    if not _enabled:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def context_carrier() -> dict[str, str] | None:
    """The current trace context as W3C headers (`traceparent`, …) to store with an outbox row; None when off."""
    if not _enabled:
        return None
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


def trace_id_from_carrier(carrier: Mapping[str, str] | None) -> str | None:
    """The trace id stored in a `traceparent` (version-traceid-spanid-flags), without needing the SDK."""
    if not carrier:
        return None
    parts = str(carrier.get("traceparent", "")).split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or parts[1] == "0" * 32:
        return None
    return parts[1]


def span_attributes_set(**attributes: Any) -> None:
    """Add attributes (e.g. `bank.transaction_id`) to the current span; nothing when tracing is off."""
    if not _enabled:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    for name, value in attributes.items():
        if value is not None:
            span.set_attribute(f"bank.{name}", value)


@contextlib.contextmanager
def span_from_carrier(name: str, *, carrier: Mapping[str, str] | None,
                      attributes: Mapping[str, Any] | None = None) -> Iterator[None]:
    """A consumer span continuing the trace stored in `carrier` (or a new trace), linked to the span that was
    current (e.g. the Celery task that drained a batch of several transfers' rows). No-op when tracing is off."""
    if not _enabled:
        yield
        return
    from opentelemetry import propagate, trace

    tracer = trace.get_tracer(TRACER_NAME)
    current = trace.get_current_span().get_span_context()
    links = [trace.Link(current)] if current.is_valid else []
    parent = propagate.extract(dict(carrier)) if carrier else None
    if carrier and carrier.get(LINK_KEY):
        linked = trace.get_current_span(propagate.extract({"traceparent": carrier[LINK_KEY]})).get_span_context()
        if linked.is_valid:
            links.append(trace.Link(linked))
    with tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.CONSUMER, links=links or None,
                                      attributes={key: value for key, value in (attributes or {}).items()
                                                  if value is not None}):
        yield


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[None]:
    """An internal child span of the current one (e.g. the recording step); no-op when tracing is off."""
    if not _enabled:
        yield
        return
    from opentelemetry import trace

    with trace.get_tracer(TRACER_NAME).start_as_current_span(
            name, attributes={f"bank.{key}": value for key, value in attributes.items() if value is not None}):
        yield


class JsonLinesSpanExporter:
    """Appends each finished span as one JSON line (OpenTelemetry's own `to_json`) to a local file.

    Several processes append to the same file: each batch is one `write` on an O_APPEND descriptor, so lines
    of different processes do not interleave. Implements the SDK's SpanExporter protocol.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._fd: int | None = None
        self._fd_pid: int | None = None

    def _descriptor(self) -> int:
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._fd_pid = os.getpid()
        return self._fd

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            lines = "".join(span.to_json(indent=None) + "\n" for span in spans)
            os.write(self._descriptor(), lines.encode())
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._fd is not None and self._fd_pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
