"""WSGI entry point of the core-banking mock process: same settings, but only config.urls_core is routed."""
import os

import django
from django.core.handlers.wsgi import WSGIHandler

from config.observability.process import CORE, process_group_enter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
# The mock stands for another system: its metrics go to their own files (its /metrics shows only its own)
# and its spans carry the service name `bank-core` (config/observability/process.py).
process_group_enter(CORE)

CORE_URLCONF = "config.urls_core"


class CoreWSGIHandler(WSGIHandler):
    """A WSGI handler that resolves every request against the core URLconf (request.urlconf)."""

    def get_response(self, request):
        request.urlconf = CORE_URLCONF
        return super().get_response(request)


def get_core_wsgi_application() -> CoreWSGIHandler:
    django.setup(set_prefix=False)
    return CoreWSGIHandler()


application = get_core_wsgi_application()
