"""Customer transfer pages."""
from django.urls import path

from transfers import views

urlpatterns = [
    path("transfer", views.transfer_input, name="transfer-input"),
    path("transfer/submit", views.transfer_submit, name="transfer-submit"),
    path("transfers/<str:transaction_id>", views.transfer_status, name="transfer-status"),
    path("transfers/<str:transaction_id>/steps", views.transfer_status_steps, name="transfer-status-steps"),
]
