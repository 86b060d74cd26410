"""GET /metrics of the bank web process and of the core-banking mock process (Prometheus text format).

Each answer sums the multi-process files of its own process group (config/observability/process.py); the
bank's adds the database gauges (collectors.py). Access: with METRICS_BEARER_TOKEN set, only
`Authorization: Bearer <token>`; without it, only loopback clients and only while DEBUG is on (`make run`).
"""
from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from config.observability.collectors import DatabaseCollector
from config.observability.process import BANK, CORE, metrics_dir


def metrics_access_allowed(request: HttpRequest) -> bool:
    """Bearer token when one is configured (constant-time comparison). Without one, a loopback client while
    DEBUG is on (`make run`), and nobody otherwise: behind a reverse proxy every client looks like loopback."""
    token = settings.METRICS_BEARER_TOKEN
    if token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())
    if not settings.DEBUG:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _metrics_answer(request: HttpRequest, *, group: str, collectors: Sequence[Collector]) -> HttpResponse:
    if not metrics_access_allowed(request):
        return HttpResponse("metrics: bearer token required (METRICS_BEARER_TOKEN)\n", status=403,
                            content_type="text/plain; charset=utf-8")
    path = metrics_dir(group)
    os.makedirs(path, exist_ok=True)  # a group none of whose processes has written yet
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    for collector in collectors:
        registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_GET
def bank_metrics(request: HttpRequest) -> HttpResponse:
    """The bank's families: every bank process's counters and histograms plus the database gauges."""
    return _metrics_answer(request, group=BANK, collectors=[DatabaseCollector()])


def core_metrics_view(*, collectors: Sequence[Collector] = ()) -> Callable[[HttpRequest], HttpResponse]:
    """The core-banking mock's /metrics: its processes' own families plus `collectors` (the mock's gauges,
    handed in by config/urls_core.py, the one module that may import the mock)."""

    @never_cache
    @require_GET
    def core_metrics(request: HttpRequest) -> HttpResponse:
        return _metrics_answer(request, group=CORE, collectors=collectors)

    return core_metrics
