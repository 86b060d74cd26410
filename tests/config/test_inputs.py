"""config/inputs.py and config/parsers.py: the strict readers behind the hostile-input refusals."""
from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from config.inputs import (
    AsciiIntegerField,
    AwareDateTimeField,
    ascii_digits_normalise,
    aware_datetime_parse,
    is_ascii_unsigned_integer,
)
from config.parsers import JSON_MAX_DEPTH, SafeJSONParser, json_depth_exceeds

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("raw", ["0", "7", "42", "1000000"])
def test_ascii_integer_is_accepted_when_digits_are_ascii(raw):
    assert is_ascii_unsigned_integer(raw)


@pytest.mark.parametrize("raw", ["²", "①", "１", "٣", "৩", "1²", "", " 1", "1 ", "-1", "+1", "1\n", "1.0"])
def test_ascii_integer_is_refused_when_not_plain_ascii_digits(raw):
    assert not is_ascii_unsigned_integer(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-04-01T09:30:00+09:00", dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC)),
    ("2026-04-01T09:30:00 09:00", dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC)),  # "+" lost in a URL
    ("2026-04-01T00:30:00Z", dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC)),
    ("2026-04-01T00:30:00", dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC)),  # naive: UTC by default
    ("9999-12-31T23:59:59Z", dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
])
def test_instant_is_read_as_utc_when_valid(raw, expected):
    assert aware_datetime_parse(raw) == expected


def test_naive_instant_is_read_in_the_given_zone():
    assert aware_datetime_parse("2026-04-01T09:30:00", naive_zone=TOKYO) == dt.datetime(2026, 4, 1, 0, 30,
                                                                                       tzinfo=dt.UTC)


def test_naive_instant_is_refused_when_no_zone_is_allowed():
    with pytest.raises(ValueError):
        aware_datetime_parse("2026-04-01T09:30:00", naive_zone=None)


@pytest.mark.parametrize("raw", [
    "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59-00:01", "0001-01-01T00:00:00+09:00",
    "0001-01-01T00:00:00+00:01", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:01Z",
    "2026-01-01T00:00:00+99:00", "10000-01-01T00:00:00Z", "２０２６-01-01T00:00:00Z", "٢٠٢٦-01-01T00:00:00Z",
    "2026-01-01T00:00:00\x00", "", "   ", "yesterday", "1e9",
])
def test_instant_is_refused_when_impossible_or_out_of_range(raw):
    with pytest.raises(ValueError):
        aware_datetime_parse(raw)


def test_naive_year_one_in_tokyo_is_refused_when_it_underflows_utc():
    with pytest.raises(ValueError):
        aware_datetime_parse("0001-01-01T00:00:00", naive_zone=TOKYO)


class _Feed(serializers.Serializer):
    since = AwareDateTimeField()
    limit = AsciiIntegerField(required=False, min_value=1, max_value=1000)


@pytest.mark.parametrize("limit", ["１", "٣", "²", "①", "1 0"])
def test_ascii_integer_field_refuses_other_scripts_digits(limit):
    feed = _Feed(data={"since": "2026-01-01T00:00:00Z", "limit": limit})
    assert not feed.is_valid() and set(feed.errors) == {"limit"}


def test_ascii_integer_field_accepts_ascii_digits_and_json_numbers():
    assert _Feed(data={"since": "2026-01-01T00:00:00Z", "limit": "25"}).is_valid()
    assert _Feed(data={"since": "2026-01-01T00:00:00Z", "limit": 25}).is_valid()


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-05:00", "2026-02-30T00:00:00Z", 12, None])
def test_aware_datetime_field_refuses_impossible_instants(since):
    feed = _Feed(data={"since": since})
    assert not feed.is_valid() and set(feed.errors) == {"since"}


@pytest.mark.parametrize(("raw", "expected"), [("０９０-１２３４-５６７８", "090-1234-5678"),
                                               ("⁰⁹⁰-¹²³⁴-⁵⁶⁷⁸", "090-1234-5678"), ("①⓪⓪-⓪⓪⓪①", "100-0001"),
                                               ("100-0001", "100-0001")])
def test_digits_are_normalised_to_ascii_when_nfkc_maps_them(raw, expected):
    assert ascii_digits_normalise(raw) == expected


@pytest.mark.parametrize("raw", ["٠٩٠-١٢٣٤-٥٦٧٨", "۱۰۰-۰۰۰۱", "१००-०००१"])
def test_digits_are_refused_when_no_ascii_form_exists(raw):
    with pytest.raises(ValueError):
        ascii_digits_normalise(raw)


def _parse(text: str):
    return SafeJSONParser().parse(io.BytesIO(text.encode()), parser_context={})


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
                                  "[" * (JSON_MAX_DEPTH + 1) + "]" * (JSON_MAX_DEPTH + 1), "[" * 100000, "{"])
def test_json_parser_raises_parse_error_when_body_is_too_deep_or_malformed(text):
    with pytest.raises(ParseError):
        _parse(text)


def test_json_parser_returns_document_when_nesting_is_within_the_limit():
    document = {"customerInfo": {"address": {"lines": [["a"]]}}}
    assert _parse(json.dumps(document)) == document
    within = "[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH
    assert not json_depth_exceeds(_parse(within), limit=JSON_MAX_DEPTH)
