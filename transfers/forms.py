"""Web transfer form: shape only (10-digit account, whole yen); transfers.services decides the rest."""
from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from config.web import AccessibleFormMixin


class TransferForm(AccessibleFormMixin, forms.Form):
    target_account_id = forms.CharField(
        label=_("振込先口座番号"), max_length=10, min_length=10,
        help_text=_("支店番号3桁＋口座番号7桁の10桁の数字（例: 0017654321）"),
        validators=[RegexValidator(r"^[0-9]{10}$", _("10桁の数字で入力してください。"))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{10}"}))
    amount = forms.IntegerField(
        label=_("金額（円）"), min_value=1, help_text=_("1円単位の整数で入力してください。"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1", "step": "1"}))
    description = forms.CharField(label=_("摘要（任意）"), required=False,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].max_value = settings.TRANSFER_MAX_AMOUNT
        self.fields["amount"].widget.attrs["max"] = str(settings.TRANSFER_MAX_AMOUNT)
        self.fields["description"].max_length = settings.TRANSFER_DESCRIPTION_MAX_LENGTH
        self.fields["description"].widget.attrs["maxlength"] = str(settings.TRANSFER_DESCRIPTION_MAX_LENGTH)

    def request_body(self, *, source_account_id: str) -> dict:
        """The body the API takes (`transfers.services.transfer_request`)."""
        body = {"sourceAccountId": source_account_id, "targetAccountId": self.cleaned_data["target_account_id"],
                "amount": self.cleaned_data["amount"]}
        if self.cleaned_data.get("description"):
            body["description"] = self.cleaned_data["description"]
        return body


class TransferConfirmForm(TransferForm):
    """The confirmation page's hidden copy of the input plus the idempotency key of this one transfer."""

    idempotency_key = forms.CharField(max_length=64, min_length=8,
                                      validators=[RegexValidator(r"^[A-Za-z0-9-]+$")])

    @staticmethod
    def new_key() -> str:
        return f"web-{uuid.uuid4()}"
