"""API routes of the accounts app (mounted under /v1/)."""
urlpatterns: list = []
