"""Gateway-level pages outside the API: the SPA's /config.json and the /v1/ catch-all."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET


@require_GET
def config_json(request: HttpRequest) -> JsonResponse:
    """GET /config.json — the runtime configuration the original SPA loads (api.md §1.1).

    `REACT_APP_BANKING_API` is PUBLIC_API_BASE_URL, else this server's /v1/ URL built from the request.
    The three values are the public client keys (never an admin secret: they identify the app only).
    """
    base_url = settings.PUBLIC_API_BASE_URL or request.build_absolute_uri("/v1/")
    if not base_url.endswith("/"):
        base_url += "/"
    response = JsonResponse({
        "REACT_APP_BANKING_API": base_url,
        "REACT_APP_CUSTOMER_API_KEY": settings.BANK_API_KEY_CUSTOMER,
        "REACT_APP_ADMIN_API_KEY": settings.BANK_API_KEY_ADMIN,
        "REACT_APP_AUTH_API_KEY": settings.BANK_API_KEY_AUTH,
    })
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return response


@csrf_exempt
def api_route_missing(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any undefined path under /v1/, with any method: the original gateway's 403 `Missing Authentication Token`
    (api.md §1.7). CSRF-exempt, so a POST gets this JSON too rather than Django's CSRF failure page."""
    return JsonResponse({"message": "Missing Authentication Token"}, status=403)


# --- web pages: login, logout, password change (Django session; services decide) -----------------------

from django.contrib import messages  # noqa: E402
from django.contrib.auth import login as session_login  # noqa: E402
from django.contrib.auth import logout as session_logout  # noqa: E402
from django.contrib.auth import update_session_auth_hash  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.http import HttpResponse, HttpResponseRedirect  # noqa: E402
from django.shortcuts import redirect, render  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.http import url_has_allowed_host_and_scheme  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.views.decorators.debug import sensitive_post_parameters  # noqa: E402
from django.views.decorators.http import require_http_methods, require_POST  # noqa: E402

from auth_app import services as auth_services  # noqa: E402
from auth_app.errors import AccountDisabled, AccountLocked, InvalidCredentials, InvalidCurrentPassword, PasswordRejected  # noqa: E402
from auth_app.forms import LoginForm, PasswordChangeForm  # noqa: E402
from auth_app.models import LoginSession  # noqa: E402
from config.web import SESSION_LOGIN_ID  # noqa: E402


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _home_for(user) -> str:
    if user.must_change_password:
        return reverse("password-change")
    return reverse("dashboard") if user.customer_id else reverse("admin:index")


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    """GET/POST /login — `login_authenticate` (django-axes lockout, LoginSession audit row), then a Django
    session. Wrong id or password: one message for both; locked: 429 with the lockout text."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_home_for(request.user))
    form = LoginForm(request.POST or None)
    status, error = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = auth_services.login_authenticate(request=request, login_id=form.cleaned_data["login_id"],
                                                          password=form.cleaned_data["password"])
            except AccountLocked:
                # This page shows the lockout itself (auth_app/lockout.py keeps the answer).
                request.bank_lockout_rendered = True
                status, error = 429, _("ログインの失敗が続いたため、一時的にロックしています。"
                                       "しばらく待ってから再度お試しください。")
            except AccountDisabled:
                status, error = 401, _("このログインIDは利用停止中です。窓口にお問い合わせください。")
            except InvalidCredentials:
                status, error = 401, _("ログインIDまたはパスワードが正しくありません。")
            else:
                session_login(request, result.user)
                request.session[SESSION_LOGIN_ID] = result.session.session_id
                if result.user.must_change_password:
                    messages.info(request, _("はじめに、仮パスワードを新しいパスワードに変更してください。"))
                    return redirect("password-change")
                default = reverse("dashboard") if result.user.customer_id else reverse("admin:index")
                return HttpResponseRedirect(_safe_next(request, default))
    return render(request, "web/login.html", {"form": form, "errors": [error] if error else [],
                                              "next": _safe_next(request, "")}, status=status)


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    """POST /logout — ends the LoginSession (audit trail) and the Django session."""
    session_id = request.session.get(SESSION_LOGIN_ID)
    if session_id:
        login_session = LoginSession.objects.filter(session_id=session_id).select_related("user").first()
        if login_session is not None:
            auth_services.login_session_end(session=login_session)
    session_logout(request)
    messages.success(request, _("ログアウトしました。"))
    return redirect("home")


@sensitive_post_parameters("current_password", "new_password", "new_password_confirm")
@login_required
@require_http_methods(["GET", "POST"])
def password_change_page(request: HttpRequest) -> HttpResponse:
    """GET/POST /password/change — `user_change_password` (re-checks the current password, validators,
    clears the forced-change flag, ends the user's other sessions); this session stays logged in."""
    form = PasswordChangeForm(request.POST or None)
    status, errors = 200, []
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                auth_services.user_change_password(
                    request=request, user=request.user, current_password=form.cleaned_data["current_password"],
                    new_password=form.cleaned_data["new_password"],
                    keep_session_id=request.session.get(SESSION_LOGIN_ID))
            except AccountLocked:
                request.bank_lockout_rendered = True
                status = 429
                errors = [_("ログインの失敗が続いたため、一時的にロックしています。"
                            "しばらく待ってから再度お試しください。")]
            except InvalidCurrentPassword:
                form.add_error("current_password", _("現在のパスワードが正しくありません。"))
            except PasswordRejected as exc:
                for reason in exc.extra.get("reasons") or [exc.message]:
                    form.add_error("new_password", reason)
            else:
                update_session_auth_hash(request, request.user)
                messages.success(request, _("パスワードを変更しました。"))
                return redirect(_home_for(request.user))
            form.mark_invalid()
    return render(request, "web/password_change.html", {"form": form, "errors": errors,
                                                        "forced": request.user.must_change_password}, status=status)
