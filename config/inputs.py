"""Strict readers for untrusted text inputs shared by the API, the core mock and the admin.

Python's `int()`, `str.isdigit()`, the regex class `\\d` and Django's `parse_datetime` all accept any Unicode
decimal digit (fullwidth `１`, Arabic-Indic `٣`; `isdigit()` even superscripts `²` and circled `①`). A value the
client sees as odd must not silently become a number, so integers read here are ASCII `[0-9]` only. Datetimes
must parse, be a real calendar instant, and stay in range when converted to UTC: `9999-12-31T23:00-05:00` parses
but overflows `datetime` in `astimezone(UTC)` (and `0001-01-01T00:00+09:00` underflows), which used to surface as
an OverflowError traceback.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

ASCII_UNSIGNED_INTEGER = re.compile(r"[0-9]+")
# Everything a timestamp may contain: ASCII digits, the date/time separators, the fraction and the offset.
ASCII_DATETIME_CHARACTERS = re.compile(r"[0-9T:.+\-Zz ]+")


def is_ascii_unsigned_integer(raw: str) -> bool:
    """True only for one or more ASCII digits (no sign, spaces or other scripts' digits)."""
    return bool(ASCII_UNSIGNED_INTEGER.fullmatch(raw))


def aware_datetime_parse(raw: str, *, naive_zone: dt.tzinfo | None = dt.UTC) -> dt.datetime:
    """An ISO-8601 instant as an aware UTC datetime; ValueError when it is not one.

    Refused: anything but ASCII date/time characters, impossible dates (`2026-02-30`), values Django cannot
    parse, and instants outside `datetime`'s range once converted to UTC. A naive time is read in
    `naive_zone` (UTC by default); with `naive_zone=None` it is refused. A `+` that a URL query decoded to
    a space (`…T10:00 09:00`) is put back.
    """
    text = raw.strip()
    if not text or not ASCII_DATETIME_CHARACTERS.fullmatch(text):
        raise ValueError("not an ISO-8601 time")
    if " " in text and "T" in text:
        text = text.replace(" ", "+")
    try:
        parsed = parse_datetime(text)
    except (ValueError, OverflowError) as error:  # a well-formed but impossible date or offset
        raise ValueError("not a valid time") from error
    if parsed is None:
        raise ValueError("not an ISO-8601 time")
    if parsed.tzinfo is None:
        if naive_zone is None:
            raise ValueError("time zone missing")
        parsed = parsed.replace(tzinfo=naive_zone)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError as error:
        raise ValueError("time out of range") from error


class AsciiIntegerField(serializers.IntegerField):
    """DRF's IntegerField, but a string must be ASCII digits (DRF's own goes through `int()`, which takes any)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not ASCII_UNSIGNED_INTEGER.fullmatch(data.strip().lstrip("-")):
            self.fail("invalid")
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField through `aware_datetime_parse`: a bad, impossible or overflowing instant is a
    field error, never an OverflowError from the time-zone conversion."""

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return super().to_internal_value(value)
        if not isinstance(value, str):
            self.fail("invalid", format="ISO-8601")
        try:
            return aware_datetime_parse(value)
        except ValueError:
            self.fail("invalid", format="ISO-8601")


def ascii_digits_normalise(text: str) -> str:
    """NFKC-normalise a phone number or postal code (fullwidth `０９０`, circled `⓪` and superscript digits
    become ASCII); ValueError if a digit of another script (Arabic-Indic `٣`, Devanagari …) remains."""
    normalised = unicodedata.normalize("NFKC", text)
    if any(not character.isascii() and character.isdigit() for character in normalised):
        raise ValueError("digits must be ASCII 0-9")
    return normalised


class AsciiDigitsTextField(serializers.CharField):
    """A free-text phone number or postal code stored with ASCII digits only (see ascii_digits_normalise)."""

    default_error_messages = {"non_ascii_digits": "Use the digits 0-9."}

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return ascii_digits_normalise(text)
        except ValueError:
            self.fail("non_ascii_digits")
