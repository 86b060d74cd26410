"""Core-banking mock process (its own port): the core API and its health check, nothing of the bank."""
from django.urls import include, path

from config.health import core_healthz
from config.observability.views import core_metrics_view
from corebanking_mock.metrics import CoreFaultCollector

urlpatterns = [
    path("healthz", core_healthz, name="core-healthz"),
    path("metrics", core_metrics_view(collectors=[CoreFaultCollector()]), name="core-metrics"),
    path("", include("corebanking_mock.api.urls")),
]

# The core mock shares the bank's templates directory; its own errors stay JSON, never the bank's 500 page.
handler500 = "corebanking_mock.api.base.server_error"
