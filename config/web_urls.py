"""Server-rendered pages (customer site at /, Japanese first; /i18n/setlang/ switches the language)."""
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("auth_app.urls")),
    path("", include("balance.urls")),
    path("", include("transfers.urls")),
    path("", include("accounts.urls")),
]
