from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from auth_app.models import LoginSession, User
from auth_app.services import login_session_end
from config.admin_mixins import ChangelistFilterGuardMixin


@admin.register(User)
class BankUserAdmin(ChangelistFilterGuardMixin, UserAdmin):
    """Staff view of online-banking logins; the banking link fields are shown read-only."""

    list_display = ("username", "public_id", "customer_id", "primary_account_id", "is_active", "is_staff")
    search_fields = ("username", "public_id", "customer_id", "primary_account_id", "email")
    readonly_fields = ("public_id", "customer_id", "primary_account_id")
    fieldsets = UserAdmin.fieldsets + ((_("Banking"), {"fields": ("public_id", "customer_id", "primary_account_id",
                                                               "must_change_password")}),)


@admin.register(LoginSession)
class LoginSessionAdmin(ChangelistFilterGuardMixin, admin.ModelAdmin):
    """Read-only list of login sessions; the only change is ending a session (through the logout service)."""

    list_display = ("user", "created_at", "expires_at", "is_active", "ended_at", "ip_address")
    list_filter = ("is_active",)
    search_fields = ("user__username", "user__public_id", "ip_address")
    list_select_related = ("user",)
    actions = ["end_sessions"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("End the selected sessions (their tokens stop working at once)"))
    def end_sessions(self, request, queryset):
        for session in queryset.filter(is_active=True).select_related("user"):
            login_session_end(session=session)


# django-axes registers its own lockout lists (AXES_ENABLE_ADMIN); give them the same guard against URL date
# filters that overflow (`?attempt_time__year=9999&attempt_time__month=12`), keeping everything else of theirs.
for _model, _axes_admin in ((AccessAttempt, axes_admin.AccessAttemptAdmin), (AccessLog, axes_admin.AccessLogAdmin),
                            (AccessFailureLog, axes_admin.AccessFailureLogAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, type(_axes_admin.__name__, (ChangelistFilterGuardMixin, _axes_admin), {}))
