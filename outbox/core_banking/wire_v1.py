"""Wire codec of core-banking API v1 (api.md): the bank's field names are the core's, so requests and answers pass
unchanged. client.py reads every body through the codec named by CORE_BANKING_WIRE_CODEC; a new core version
is a new codec module with the same two functions."""
from __future__ import annotations

from typing import Any


def request_body(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON body to send, from the bank's field names."""
    return body


def answer_body(body: dict[str, Any]) -> dict[str, Any]:
    """The core's JSON answer in the bank's field names."""
    return body
