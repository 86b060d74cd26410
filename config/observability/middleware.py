"""Per-request observability: counts and times every answer by URL pattern (bounded labels, no ids), starts
a fresh log context for the request, and writes one `http request` log line carrying the trace id and the
transaction / application id a view bound (config/observability/logs.py)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.observability import metrics
from config.observability.logs import log_context

logger = logging.getLogger("bank.http")

# Paths polled by machines: counted, but not logged line by line.
QUIET_PATHS = ("/healthz", "/metrics")


def request_route(request: HttpRequest) -> str:
    """The matched URL pattern (`v1/api/transfer/<str:transaction_id>`), `static` or `unmatched`."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return match.route
    if settings.STATIC_URL and request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class HttpObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with log_context():
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            route = request_route(request)
            metrics.http_request_observe(route=route, method=request.method or "", status=response.status_code,
                                         seconds=seconds)
            if request.path not in QUIET_PATHS:
                logger.info("http request %s %s -> %s in %.1f ms", request.method, route, response.status_code,
                            seconds * 1000, extra={"http_method": request.method, "http_route": route,
                                                   "http_status": response.status_code,
                                                   "duration_ms": round(seconds * 1000, 2)})
        return response
