"""The project's URLs plus `GET /bench/ping`, a plain Django JSON view without database access (bench only)."""
from django.http import JsonResponse
from django.urls import include, path


def ping(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/ping", ping),
    path("", include("config.urls")),
]
handler500 = "config.api.server_error"
