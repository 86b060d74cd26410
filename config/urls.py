"""Banking web process: the API under /v1/ (api.md §1.2), Django admin at /admin/, pages at /."""
from django.contrib import admin
from django.urls import include, path

from config.health import web_healthz

urlpatterns = [
    path("healthz", web_healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("v1/", include("config.api_urls")),
    path("", include("config.web_urls")),
]
