"""Banking web process: the API under /v1/ (api.md §1.2), Django admin at /admin/ (plus the staff fault
panel at /admin/core-faults/), pages and the language switch (/i18n/setlang/) at /."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from auth_app.views import api_route_missing, config_json
from config.core_faults_page import core_faults_view
from config.health import web_healthz
from config.observability.views import bank_metrics

urlpatterns = [
    path("healthz", web_healthz, name="healthz"),
    # Prometheus scrape (bearer token or loopback only; config/observability/views.py).
    path("metrics", bank_metrics, name="metrics"),
    path("config.json", config_json, name="config-json"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Staff-only test tool: the core-banking mock's fault injection (config/core_faults_page.py).
    path("admin/core-faults/", admin.site.admin_view(core_faults_view), name="core-faults"),
    path("admin/", admin.site.urls),
    path("v1/", include("config.api_urls")),
    # Anything else under /v1/ answers like the original gateway (403 Missing Authentication Token).
    re_path(r"^v1/", api_route_missing),
    path("", include("config.web_urls")),
]
if settings.DEBUG:
    urlpatterns.insert(3, path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"))

# JSON 500 answers (with a logged request id) for errors raised outside DRF views under /v1/; elsewhere
# Django's server_error renders templates/500.html (the site's style; DEBUG off only).
handler500 = "config.api.server_error"
# 404 outside /v1/ (whose unknown paths answer like the original gateway): templates/404.html for pages,
# JSON for /api/ (schema) clients.
handler404 = "config.web.page_not_found"
