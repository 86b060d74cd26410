from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project package as an app: project-wide management commands (`manage.py resilience`) and the
    per-process observability set-up."""

    name = "config"
    label = "config"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Tracing is installed here, before the WSGI handler loads its middleware and before Celery forks its
        # pool, so Django's, Celery's, httpx's and psycopg's instrumentation apply to every request and task.
        from django.conf import settings

        from config.observability import tracing
        from config.observability.process import CORE, process_group

        service_name = settings.TRACING_SERVICE_NAME + ("-core" if process_group() == CORE else "")
        tracing.tracing_setup(exporter=settings.TRACING_EXPORTER, service_name=service_name,
                              file_path=settings.TRACING_FILE, sample_ratio=settings.TRACING_SAMPLE_RATIO)
