"""Everything under /v1/: one include per app's api/urls.py."""
from django.urls import include, path

urlpatterns = [
    path("", include("auth_app.api.urls")),
    path("", include("balance.api.urls")),
    path("", include("transfers.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("outbox.api.urls")),
]
