"""The JSON body parser of every DRF view (bank API and core mock).

DRF's JSONParser turns a ValueError into a 400 but not the RecursionError that Python's json module raises
for a body nested a thousand levels deep (a few KB of `[[[[…`), which became a 500. This parser refuses
that, and also any document nested deeper than `JSON_MAX_DEPTH`: no route takes more than a few levels,
and a deep but parseable document could still hit the recursion limit later (fingerprints, error bodies).
"""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deepest nesting any route needs is 3 (an application's customerInfo / address objects); leave headroom.
JSON_MAX_DEPTH = 32


def json_depth_exceeds(document: Any, *, limit: int) -> bool:
    """True when `document` nests objects/arrays deeper than `limit` (iterative: no recursion itself)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class SafeJSONParser(JSONParser):
    """JSONParser whose every malformed, too deep or recursion-breaking body is a ParseError (400)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        try:
            document = super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply") from error
        if json_depth_exceeds(document, limit=JSON_MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels")
        return document
