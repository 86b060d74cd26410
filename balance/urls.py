"""Customer pages of the read side."""
from django.urls import path

from balance import views

urlpatterns = [
    path("dashboard", views.dashboard, name="dashboard"),
    path("history", views.history, name="history"),
]
