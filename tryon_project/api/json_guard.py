"""JSON with bounded nesting. Python's decoder recurses once per `[` or `{`: a body of a few thousand brackets raises
RecursionError (a 500 with a traceback) instead of a parse error. The depth is measured on the raw text first, so
the decoder never sees such a document; API bodies nest five levels at most, so the bound is generous."""

from __future__ import annotations

import re

import numpy as np
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json

MAX_JSON_DEPTH = 64

# A JSON string literal, escapes included (the unrolled form: no backtracking); brackets inside strings nest nothing.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
# +1 for an opening bracket, -1 for a closing one: the running sum is the depth. numpy keeps a 2.5 MB body of
# brackets to a few tens of milliseconds, about what the decoder itself spends on such a body.
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class JsonTooDeep(ValueError):
    """A ValueError, so every caller that already treats undecodable JSON as malformed treats this one alike."""


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (0 for a scalar). Unbalanced or invalid text is measured
    as written; the decoder refuses it afterwards."""
    brackets = _STRING.sub("", text).encode("utf-8", errors="surrogatepass").translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    steps = _STEP[np.frombuffer(brackets, dtype=np.uint8)]
    return max(0, int(np.cumsum(steps, dtype=np.int64).max()))


def json_loads_bounded(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """`json.loads` with DRF's strictness (no NaN/Infinity) that refuses documents nested deeper than `max_depth`."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    if text.count("[") + text.count("{") > max_depth and json_depth(text) > max_depth:
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels.")
    if api_settings.STRICT_JSON:
        return drf_json.loads(text)
    return drf_json.loads(text, parse_constant=None)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the nesting bound: a too-deep body is a parse error (400 MALFORMED_REQUEST)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            return json_loads_bounded(stream.read().decode(encoding))
        except ValueError as exc:  # UnicodeDecodeError and JsonTooDeep are ValueErrors too
            raise ParseError(f"JSON parse error - {exc}") from exc
