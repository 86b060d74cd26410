from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from auth_app.models import User


@admin.register(User)
class BankUserAdmin(UserAdmin):
    """Staff view of online-banking logins; the banking link fields are shown read-only."""

    list_display = ("username", "public_id", "customer_id", "primary_account_id", "is_active", "is_staff")
    search_fields = ("username", "public_id", "customer_id", "primary_account_id", "email")
    readonly_fields = ("public_id", "customer_id", "primary_account_id")
    fieldsets = UserAdmin.fieldsets + (("Banking", {"fields": ("public_id", "customer_id", "primary_account_id",
                                                               "must_change_password")}),)
