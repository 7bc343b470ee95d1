"""JSON request bodies read with limits, in one place for the API and the webhooks.

A body is refused (400, or 413 when too large) with a clear message before `json` reads
it when it is larger than API_MAX_BODY_BYTES or nests deeper than API_MAX_JSON_DEPTH;
Python's json recurses once per level and raises RecursionError about 1,000 levels down.
"""

import json
import re
from itertools import accumulate

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# A JSON string (escapes included), so brackets inside strings are not counted. The closing
# quote is optional so that an unterminated string ends the scan instead of being retried
# from every later quote (quadratic time).
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonRefused(ValueError):
    """A body that is not JSON the limits allow; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def json_depth(text: str) -> int:
    """How deep `text`'s arrays and objects nest, without recursion (brackets outside strings)."""
    brackets = NOT_A_BRACKET.sub("", JSON_STRING.sub("", text))
    return max(accumulate(map(DEPTH_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def json_loads_bounded(body: bytes | str, *, max_bytes: int | None = None, max_depth: int | None = None):
    """Parse a JSON body within the size and depth limits (settings by default).

    Raises JsonRefused with a message fit to show the sender. NaN and Infinity are refused,
    as in DRF's strict JSON (they are not JSON), and so are strings with a NUL character or
    a lone surrogate: a database stores none of them.
    """
    max_bytes = settings.API_MAX_BODY_BYTES if max_bytes is None else max_bytes
    max_depth = settings.API_MAX_JSON_DEPTH if max_depth is None else max_depth
    if len(body) > max_bytes:
        raise JsonRefused(f"The request body is too large: at most {max_bytes // 1024} KB.", status=413)
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise JsonRefused("The request body is not UTF-8 text.") from None
    if json_depth(text) > max_depth:
        raise JsonRefused(f"The JSON nests too deep: at most {max_depth} levels of arrays and objects.")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError, and ints over Python's 4,300-digit limit
        raise JsonRefused(f"The request body is not valid JSON: {error}") from None
    if "\\u" in text and _has_unstorable_text(value):  # only an escape can make either
        raise JsonRefused("The JSON contains a NUL character or a lone surrogate (\\u0000, \\ud800), "
                          "which cannot be stored.")
    return value


def _has_unstorable_text(value) -> bool:
    """Whether a string or key of `value` holds a NUL (PostgreSQL's text and jsonb refuse it)
    or a lone surrogate (not encodable as UTF-8)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or not item.isascii() and _not_utf8(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class BodyTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "body_too_large"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, reading through json_loads_bounded (the API's DEFAULT_PARSER_CLASSES)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        try:
            return json_loads_bounded(body, max_bytes=limit)
        except JsonRefused as refused:
            raise (BodyTooLarge if refused.status == 413 else ParseError)(str(refused)) from None
