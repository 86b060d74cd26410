from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project package as an app: project-wide management commands (`manage.py resilience`), the admin site's titles."""

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
