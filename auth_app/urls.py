"""Web pages of logins (the API's routes are in auth_app/api/)."""
from django.urls import path

from auth_app import views

urlpatterns = [
    path("login", views.login_page, name="web-login"),
    path("logout", views.logout_page, name="web-logout"),
    path("password/change", views.password_change_page, name="password-change"),
]
