"""API routes of the auth_app app (mounted under /v1/)."""
urlpatterns: list = []
