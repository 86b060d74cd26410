"""API routes of the transfers app (mounted under /v1/)."""
urlpatterns: list = []
