"""Input of an account-opening application: accept the original's nested and flat forms (api.md §2.1),
normalise them, and check every field (api.md §8: the original validated nothing).

`application_input_parse(body)` returns an `ApplicationInput` or raises `ApplicationInvalidError` (400)
whose `extra["fields"]` maps each bad field to its messages. Used by the API and by the later web form.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone

from config.errors import ApplicationError

ID_TYPES = ("drivingLicense", "passport", "residentCard")
ACCOUNT_TYPE_ALIASES = {"普通預金": "SAVINGS", "当座預金": "CHECKING", "SAVINGS": "SAVINGS", "CHECKING": "CHECKING"}
LANGUAGES = ("ja", "en")

NAME_MAX = 100
ADDRESS_MAX = 200
EMAIL_MAX = 254
# Full-width katakana (with the long vowel mark and middle dot) and spaces.
KANA_PATTERN = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FB\u3000 ]+$")
# Japanese numbers: 0 then 9–10 more digits (10–11 in all), hyphens optional between groups. Digits are ASCII
# [0-9] (`\d` would also match Arabic-Indic or Devanagari digits, which NFKC leaves as they are); fullwidth,
# circled and superscript digits become ASCII under NFKC first, so they are stored normalised, never as sent.
PHONE_PATTERN = re.compile(r"0[0-9]{1,4}-?[0-9]{1,4}-?[0-9]{3,4}")
POSTAL_PATTERN = re.compile(r"([0-9]{3})-?([0-9]{4})")
ID_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9-]{4,20}$")
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_AGE_YEARS = 130


class ApplicationInvalidError(ApplicationError):
    """The application has invalid fields (`extra["fields"]`: {field: [message, …]})."""

    code = "VALIDATION_ERROR"
    http_status = 400


class RequestBodyMissingError(ApplicationError):
    code = "MISSING_BODY"
    http_status = 400


@dataclass(frozen=True)
class ApplicationInput:
    """A checked, normalised application (field names as in the snapshot's `customerInfo`)."""

    full_name: str
    kana: str
    email: str
    phone_number: str
    birthdate: str
    postal_code: str
    address: str
    id_type: str
    id_number: str
    account_type: str
    language: str = "ja"

    def customer_info(self) -> dict[str, str]:
        """The snapshot's `customerInfo` (api.md §2.2 field names)."""
        return {"fullName": self.full_name, "kana": self.kana, "email": self.email, "phoneNumber": self.phone_number,
                "birthdate": self.birthdate, "postalCode": self.postal_code, "address": self.address,
                "idType": self.id_type, "idNumber": self.id_number}

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _text(value: Any) -> str | None:
    """A string value stripped (NFKC is not applied: kana must stay full-width); None when absent/not text."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip()


def _pick(*candidates: Any) -> Any:
    for candidate in candidates:
        if candidate not in (None, ""):
            return candidate
    return None


def _flatten(body: dict[str, Any]) -> dict[str, Any]:
    """The original's merge rules (api.md §2.1): customerInfo wins; kana only top level; postal code top level,
    else address.postalCode; address = address.streetAddress, else address itself."""
    info = body.get("customerInfo") if isinstance(body.get("customerInfo"), dict) else {}
    address = body.get("address")
    address_object = address if isinstance(address, dict) else {}
    street = address_object.get("streetAddress") if address_object else address
    return {
        "fullName": _pick(info.get("fullName"), body.get("fullName")),
        "kana": _pick(body.get("kana"), info.get("kana")),
        "email": _pick(info.get("email"), body.get("email")),
        "phoneNumber": _pick(info.get("phoneNumber"), info.get("phone"), body.get("phoneNumber"), body.get("phone")),
        "birthdate": _pick(info.get("birthDate"), info.get("birthdate"), body.get("birthdate"), body.get("birthDate")),
        "postalCode": _pick(body.get("postalCode"), address_object.get("postalCode"), info.get("postalCode")),
        "address": street,
        "idType": _pick(info.get("idType"), body.get("idType")),
        "idNumber": _pick(info.get("idNumber"), body.get("idNumber")),
        "accountType": _pick(body.get("type"), body.get("accountType")),
        "language": body.get("language"),
    }


def _age_on(birthdate: dt.date, today: dt.date) -> int:
    return today.year - birthdate.year - ((today.month, today.day) < (birthdate.month, birthdate.day))


def application_input_parse(body: Any, *, today: dt.date | None = None) -> ApplicationInput:
    """Normalise and check an application body; raise ApplicationInvalidError with per-field messages."""
    if body is None or body == {} or body == "":
        raise RequestBodyMissingError("Request body is required")
    if not isinstance(body, dict):
        raise ApplicationInvalidError("Request body must be a JSON object", extra={"fields": {}})
    raw = _flatten(body)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    today = today or timezone.localdate()

    def required(name: str, max_length: int) -> str | None:
        value = _text(raw[name])
        if not value:
            errors[name] = ["必須項目です (required)"]
            return None
        if len(value) > max_length or "\x00" in value:
            errors[name] = [f"{max_length}文字以内で入力してください (at most {max_length} characters)"]
            return None
        return value

    full_name = required("fullName", NAME_MAX)
    if full_name is not None:
        values["full_name"] = full_name

    kana = _text(raw["kana"]) or ""
    if kana and (len(kana) > NAME_MAX or not KANA_PATTERN.match(kana)):
        errors["kana"] = ["全角カタカナで入力してください (full-width katakana)"]
    values["kana"] = kana

    email = required("email", EMAIL_MAX)
    if email is not None:
        try:
            EmailValidator()(email)
            values["email"] = email
        except ValidationError:
            errors["email"] = ["有効なメールアドレスを入力してください (a valid email address)"]

    phone = required("phoneNumber", 20)
    if phone is not None:
        phone = unicodedata.normalize("NFKC", phone)
        digits = phone.replace("-", "")
        if not PHONE_PATTERN.fullmatch(phone) or len(digits) not in (10, 11):
            errors["phoneNumber"] = ["電話番号の形式が正しくありません (Japanese phone number, e.g. 090-1234-5678)"]
        else:
            values["phone_number"] = phone

    birthdate = required("birthdate", 10)
    if birthdate is not None:
        try:
            if not DATE_PATTERN.fullmatch(birthdate):
                raise ValueError
            born = dt.date.fromisoformat(birthdate)
        except ValueError:
            errors["birthdate"] = ["生年月日は YYYY-MM-DD 形式で入力してください (date as YYYY-MM-DD)"]
        else:
            age = _age_on(born, today)
            if born > today:
                errors["birthdate"] = ["未来の日付は指定できません (must not be in the future)"]
            elif age < settings.ACCOUNTS_MINIMUM_AGE:
                errors["birthdate"] = [f"{settings.ACCOUNTS_MINIMUM_AGE}歳以上の方のみお申し込みいただけます "
                                       f"(applicants must be at least {settings.ACCOUNTS_MINIMUM_AGE})"]
            elif age > MAX_AGE_YEARS:
                errors["birthdate"] = ["生年月日が正しくありません (implausible birth date)"]
            else:
                values["birthdate"] = born.isoformat()

    postal = required("postalCode", 8)
    if postal is not None:
        match = POSTAL_PATTERN.fullmatch(unicodedata.normalize("NFKC", postal))
        if match is None:
            errors["postalCode"] = ["郵便番号は 123-4567 の形式で入力してください (postal code NNN-NNNN)"]
        else:
            values["postal_code"] = f"{match.group(1)}-{match.group(2)}"

    address = required("address", ADDRESS_MAX)
    if address is not None:
        values["address"] = address

    id_type = _text(raw["idType"])
    if not id_type:
        errors["idType"] = ["必須項目です (required)"]
    elif id_type not in ID_TYPES:
        errors["idType"] = [f"本人確認書類の種類が正しくありません (one of {', '.join(ID_TYPES)})"]
    else:
        values["id_type"] = id_type

    id_number = required("idNumber", 20)
    if id_number is not None:
        if not ID_NUMBER_PATTERN.match(id_number):
            errors["idNumber"] = ["本人確認書類の番号は英数字4〜20文字で入力してください "
                                  "(4-20 letters, digits, hyphens)"]
        else:
            values["id_number"] = id_number

    account_type_raw = _text(raw["accountType"])
    if account_type_raw is None or account_type_raw == "":
        values["account_type"] = "SAVINGS"
    elif account_type_raw in ACCOUNT_TYPE_ALIASES:
        values["account_type"] = ACCOUNT_TYPE_ALIASES[account_type_raw]
    else:
        errors["accountType"] = ["口座種別が正しくありません (SAVINGS or CHECKING)"]

    language = _text(raw["language"]) or "ja"
    if language not in LANGUAGES:
        errors["language"] = ["ja or en"]
    values["language"] = language

    if errors:
        raise ApplicationInvalidError(f"入力内容に誤りがあります: {', '.join(errors)}", extra={"fields": errors})
    return ApplicationInput(**values)
