"""The account application pages."""
from django.urls import path

from accounts import views

urlpatterns = [
    path("apply", views.apply_personal, name="apply-personal"),
    path("apply/contact", views.apply_contact, name="apply-contact"),
    path("apply/review", views.apply_review, name="apply-review"),
    path("apply/done", views.apply_done, name="apply-done"),
    path("apply/terms", views.terms, name="apply-terms"),
]
