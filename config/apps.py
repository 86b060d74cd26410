from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project package as an app: project-wide management commands (`manage.py resilience`), the admin
    site's titles and the per-process observability set-up."""

    name = "config"
    label = "config"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The staff admin is the bank's: its own header and title (translated; Japanese by default).
        from django.contrib import admin
        from django.utils.translation import gettext_lazy as _

        admin.site.site_header = _("サンプル銀行 スタッフ管理画面")
        admin.site.site_title = _("サンプル銀行 スタッフ")
        admin.site.index_title = _("業務メニュー")

        # Tracing is installed here, before the WSGI handler loads its middleware and before Celery forks its
        # pool, so Django's, Celery's, httpx's and psycopg's instrumentation apply to every request and task.
        from django.conf import settings

        from config.observability import tracing
        from config.observability.process import CORE, process_group

        service_name = settings.TRACING_SERVICE_NAME + ("-core" if process_group() == CORE else "")
        tracing.tracing_setup(exporter=settings.TRACING_EXPORTER, service_name=service_name,
                              file_path=settings.TRACING_FILE, sample_ratio=settings.TRACING_SAMPLE_RATIO)
