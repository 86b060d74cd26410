"""API routes of the accounts app (mounted under /v1/; no trailing slashes).

The status route matches `APP-` ids only, so `GET /api/accounts/{accountId}/transactions` (balance app)
is never captured here.
"""
from django.urls import path, re_path

from accounts.api.views import (
                                ApplicationApproveApi,
                                ApplicationCreateApi,
                                ApplicationCredentialsApi,
                                ApplicationEventsApi,
                                ApplicationListApi,
                                ApplicationRejectApi,
                                ApplicationStatusApi,
)

APPLICATION_ID = r"(?P<application_id>APP-[0-9a-f]{8,64})"
ANY_APPLICATION_ID = r"(?P<application_id>[^/\x00]{1,100})"
TRANSACTION_ID = r"(?P<transaction_id>[^/\x00]{1,100})"  # unknown ids get the original's 404 body

urlpatterns = [
    path("api/accounts", ApplicationCreateApi.as_view(), name="account-application-create"),
    re_path(rf"^api/accounts/{APPLICATION_ID}$", ApplicationStatusApi.as_view(), name="account-application-status"),
    re_path(rf"^api/accounts/confirm/{TRANSACTION_ID}$", ApplicationApproveApi.as_view(),
            name="account-application-approve"),
    re_path(rf"^api/accounts/confirm/{TRANSACTION_ID}/reject$", ApplicationRejectApi.as_view(),
            name="account-application-reject"),
    path("admin/account-applications", ApplicationListApi.as_view(), name="admin-account-applications"),
    re_path(rf"^admin/account-applications/{ANY_APPLICATION_ID}/credentials$", ApplicationCredentialsApi.as_view(),
            name="admin-account-application-credentials"),
    re_path(rf"^admin/account-applications/{ANY_APPLICATION_ID}/events$", ApplicationEventsApi.as_view(),
            name="admin-account-application-events"),
]
