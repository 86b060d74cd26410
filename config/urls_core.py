"""Core-banking mock process (its own port): the core API and its health check, nothing of the bank."""
from django.urls import include, path

from config.health import core_healthz
from config.observability.views import core_metrics

urlpatterns = [
    path("healthz", core_healthz, name="core-healthz"),
    path("metrics", core_metrics, name="core-metrics"),
    path("", include("corebanking_mock.api.urls")),
]
