"""Small value parsers shared by request parsers; each raises VALIDATION_FAILED with the field's path."""

from __future__ import annotations

from tryon_project.api.errors import ErrorDetail, validation_error

RETENTION_CHOICES = (1, 3, 7)
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
    return value


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
