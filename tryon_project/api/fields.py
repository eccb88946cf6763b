"""Small value parsers shared by request parsers, each raising VALIDATION_FAILED with the field's path, and the one
collector that gathers their details into a single answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error

T = TypeVar("T")

RETENTION_CHOICES = (1, 3, 7)


# A field's 1.0-1.3 name and its 1.4 name. Sending both is refused where the body is JSON (request_parser); which
# one was sent decides the path an error reports.
CUSTOMER_ID_NAMES = ("customerId", "externalUserId")
RETENTION_NAMES = ("retentionDays", "keepForDays")


def alias_key(*, data, names: tuple[str, str]) -> str:
    """The name under which the client sent an aliased field: the older one when present, else the 1.4 one."""
    return names[0] if names[0] in data else names[1]


def path_join(prefix: str, *parts: str | int) -> str:
    """A `details` path as the client sent the field: dotted keys, list indexes as numbers."""
    return ".".join(str(part) for part in (prefix, *parts) if part != "")


class DetailCollector:
    """Gathers VALIDATION_FAILED details from independent checks, so one answer lists every offending field. The
    `prefix` is where the checked object sits in the body ("" for the body itself, "products.0" for an item)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.details: list[ErrorDetail] = []

    def add(self, *parts: str | int, message: str) -> None:
        self.details.append(ErrorDetail(path=path_join(self.prefix, *parts), message=message))

    def collect(self, parse: Callable[..., T], /, *args, **kwargs) -> T | None:
        """`parse(...)`'s value, or None with its VALIDATION_FAILED details kept; other errors propagate."""
        try:
            return parse(*args, **kwargs)
        except ApiError as exc:
            if exc.code is not ErrorCode.VALIDATION_FAILED:
                raise
            self.details.extend(exc.details)
            return None

    def raise_if_any(self) -> None:
        if self.details:
            raise validation_error(self.details)


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_bool(*, value: object, path: str, default: bool) -> bool:
    """JSON booleans, or form text `true`/`false`/`1`/`0`."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise validation_error([ErrorDetail(path=path, message="must be true or false")])


def parse_retention_days(*, value: object, path: str) -> int | None:
    """1, 3 or 7 (form text accepted); None when not sent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise validation_error([ErrorDetail(path=path, message="must be one of 1, 3, 7")])
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and value in RETENTION_CHOICES:
        return value
    raise validation_error([ErrorDetail(path=path, message="must be one of 1, 3, 7")])


def parse_customer_id(*, value: object, path: str) -> str:
    """The merchant's end-user id: 1-255 characters, or empty when not sent."""
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise validation_error([ErrorDetail(path=path, message="must be a string of 1-255 characters")])
    if text_unstorable(value):
        raise validation_error([ErrorDetail(path=path, message=UNSTORABLE_MESSAGE)])
    if value.startswith("/") or value.endswith("/") or "//" in value:
        # `DELETE /customers/{customerId}` could not address it: the route's optional trailing slash takes a final
        # "/", and proxies merge "//". An id that erasure cannot reach is refused when it is first sent.
        raise validation_error([ErrorDetail(path=path, message=CUSTOMER_ID_SLASH_MESSAGE)])
    return value


CUSTOMER_ID_SLASH_MESSAGE = "must not start or end with '/' or contain '//'"


UNSTORABLE_MESSAGE = "must not contain NUL characters or unpaired surrogates"


def text_unstorable(value: str) -> bool:
    """NUL and unpaired surrogates are legal in JSON strings and in Python, but PostgreSQL text cannot hold NUL
    and UTF-8 cannot encode a lone surrogate: such input would fail at the database as a 500."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_unstorable(*, data: object, path: str = "", limit: int = 20) -> list[ErrorDetail]:
    """One detail per string (key or value) of a parsed JSON document that `text_unstorable` refuses."""
    found: list[ErrorDetail] = []
    stack: list[tuple[str, object]] = [(path, data)]
    while stack and len(found) < limit:
        where, value = stack.pop()
        if isinstance(value, str):
            if text_unstorable(value):
                found.append(ErrorDetail(path=where, message=UNSTORABLE_MESSAGE))
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{where}.{key}" if where else str(key)
                if text_unstorable(key):
                    found.append(ErrorDetail(path=where or "(body)", message=f"a key {UNSTORABLE_MESSAGE}"))
                    continue
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{index}" if where else str(index), item) for index, item in enumerate(value))
    return sorted(found, key=lambda detail: detail.path)
