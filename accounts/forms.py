"""The three-step account application: shape only. The field rules are `accounts.validation`'s (the API's)."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountType
from config.web import AccessibleFormMixin

ID_TYPE_CHOICES = [("", _("選択してください")), ("drivingLicense", _("運転免許証")), ("passport", _("パスポート")),
                   ("residentCard", _("マイナンバーカード"))]


class PersonalForm(AccessibleFormMixin, forms.Form):
    """Step 1: who the applicant is."""

    full_name = forms.CharField(label=_("氏名"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    kana = forms.CharField(label=_("氏名（フリガナ）"), max_length=100, required=False,
                           help_text=_("全角カタカナで入力してください（例: ヤマダ タロウ）"),
                           widget=forms.TextInput(attrs={"autocomplete": "off", "lang": "ja"}))
    birthdate = forms.CharField(label=_("生年月日"), max_length=10, help_text=_("YYYY-MM-DD（例: 1990-04-01）"),
                                widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}))
    id_type = forms.ChoiceField(label=_("本人確認書類"), choices=ID_TYPE_CHOICES)
    id_number = forms.CharField(label=_("本人確認書類の番号"), max_length=20,
                                help_text=_("英数字とハイフン 4〜20文字"),
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    account_type = forms.ChoiceField(label=_("口座の種類"), choices=AccountType.choices, initial=AccountType.SAVINGS)


class ContactForm(AccessibleFormMixin, forms.Form):
    """Step 2: how to reach the applicant."""

    email = forms.CharField(label=_("メールアドレス"), max_length=254,
                            help_text=_("審査結果とログイン情報をこのアドレスにお送りします。"),
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone_number = forms.CharField(label=_("電話番号"), max_length=20, help_text=_("例: 090-1234-5678"),
                                   widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel",
                                                                 "inputmode": "tel"}))
    postal_code = forms.CharField(label=_("郵便番号"), max_length=8, help_text=_("例: 100-0001"),
                                  widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}))
    address = forms.CharField(label=_("住所"), max_length=200,
                              widget=forms.TextInput(attrs={"autocomplete": "street-address"}))


# The terms the review page's checkbox refers to (templates/accounts/terms.html). Change it whenever the text
# changes: each application's event records the version its applicant accepted.
TERMS_VERSION = "2026-12-01"


class TermsConsentForm(AccessibleFormMixin, forms.Form):
    """Review step: the applicant must accept the terms of service before the application is filed."""

    accept_terms = forms.BooleanField(label=_("利用規約に同意します"), required=True,
                                      error_messages={"required": _("お申し込みには利用規約への同意が必要です。")})


# The validation module's field names (wire names) for each form field.
WIRE_NAMES = {"full_name": "fullName", "kana": "kana", "birthdate": "birthdate", "id_type": "idType",
              "id_number": "idNumber", "account_type": "accountType", "email": "email",
              "phone_number": "phoneNumber", "postal_code": "postalCode", "address": "address"}
