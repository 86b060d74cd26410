"""Web forms of login and password change: shape only (the services in auth_app.services decide)."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from config.web import AccessibleFormMixin


class LoginForm(AccessibleFormMixin, forms.Form):
    login_id = forms.CharField(label=_("ログインID"), max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}))
    password = forms.CharField(label=_("パスワード"), max_length=256, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordChangeForm(AccessibleFormMixin, forms.Form):
    current_password = forms.CharField(label=_("現在のパスワード"), max_length=256, strip=False,
                                       help_text=_("初回ログインの場合は、メールでお知らせした仮パスワードです。"),
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("新しいパスワード"), max_length=256, strip=False,
                                   help_text=_("10文字以上。ログインIDや推測されやすい語は使えません。"),
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password_confirm = forms.CharField(label=_("新しいパスワード（確認）"), max_length=256, strip=False,
                                           widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password") and cleaned.get("new_password_confirm") and \
                cleaned["new_password"] != cleaned["new_password_confirm"]:
            self.add_error("new_password_confirm", _("確認用のパスワードが一致しません。"))
        return cleaned
