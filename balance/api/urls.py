"""API routes of the balance app (mounted under /v1/)."""
urlpatterns: list = []
