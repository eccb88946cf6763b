"""Value rules shared by the request schemas (`request_schema`) and the request-body readers (`multipart`,
`middleware`): the retention choices, and text that PostgreSQL could not store."""

from __future__ import annotations

from tryon_project.api.errors import ErrorDetail

RETENTION_CHOICES = (1, 3, 7)

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
