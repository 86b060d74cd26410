"""API routes of the corebanking_mock app (mounted under /v1/)."""
urlpatterns: list = []
