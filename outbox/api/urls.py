"""API routes of the outbox app (mounted under /v1/)."""
urlpatterns: list = []
