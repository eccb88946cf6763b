"""Declarative request schemas: the strict wire fields every request body is described with, and `schema_validate`,
the one place where a body's offending fields are gathered into a single VALIDATION_FAILED answer.

A request is first rewritten by its operation's shape normaliser into one canonical input (older and newer names of
a field onto one), then validated once by the operation's serializer, which is also what the OpenAPI document is
generated from. The normaliser hands over a path map (canonical prefix -> the prefix the client sent), so every
`details` path reads as the client sent it.

The fields are stricter than DRF's own: the wire contract says "a string", "an integer", so `5` is not a title and
`"5"` is not a number; form text is accepted only where the field says so. Messages are the API's, not DRF's."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.core.files.uploadedfile import UploadedFile
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail as DrfErrorDetail
from rest_framework.fields import empty

from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.api.fields import (
    CUSTOMER_ID_SLASH_MESSAGE,
    RETENTION_CHOICES,
    UNSTORABLE_MESSAGE,
    text_unstorable,
)

REQUIRED_MESSAGE = "is required"
OBJECT_MESSAGE = "must be an object"
# DRF's codes for "no usable value was sent"; a schema may give them an error code of their own (`required_codes`).
_MISSING_CODES = frozenset({"required", "null", "blank"})


def details_flatten(detail: object, prefix: str = "") -> list[ErrorDetail]:
    """DRF's nested error dict/list -> one (dot path, message) per leaf, in the order the schema declares fields.
    The one flattening of DRF errors: `schema_validate` reads the same leaves, and the exception handler answers a
    `ValidationError` raised anywhere else (a query-parameter serializer) with this."""
    return [ErrorDetail(path=path, message=str(message)) for path, message in _leaves(detail, prefix)]


def _leaves(detail: object, prefix: str) -> list[tuple[str, object]]:
    if isinstance(detail, dict):
        out: list[tuple[str, object]] = []
        for key, value in detail.items():
            path = prefix if key == serializers.api_settings.NON_FIELD_ERRORS_KEY else _join(prefix, key)
            out.extend(_leaves(value, path))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [(prefix, item) for item in detail]
        out = []
        for index, value in enumerate(detail):
            if value:
                out.extend(_leaves(value, _join(prefix, index)))
        return out
    return [(prefix, detail)]


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def path_sent(*, path: str, paths: Mapping[str, str]) -> str:
    """`path` of the canonical input, rewritten under the prefix the client sent it (longest mapped prefix wins;
    "" maps the root, e.g. a product item that sits at "products.0" of the body)."""
    best: str | None = None
    for canonical in paths:
        matches = canonical == "" or path == canonical or path.startswith(canonical + ".")
        if matches and (best is None or len(canonical) > len(best)):
            best = canonical
    if best is None:
        return path
    rest = path[len(best) :].lstrip(".")
    return ".".join(part for part in (paths[best], rest) if part)


# Base of every request body schema (no docstring: the OpenAPI document would show it as each body's description).
# `required_codes` names root fields whose absence is its own error code (`POST /products` without `externalId` is
# EXTERNAL_ID_REQUIRED): that answer replaces any field errors.
class RequestSchema(serializers.Serializer):
    required_codes: ClassVar[dict[str, tuple[ErrorCode, str]]] = {}


def schema_validate(
    *,
    schema: serializers.Serializer,
    paths: Mapping[str, str] | None = None,
    issues: Sequence[ErrorDetail] = (),
) -> dict[str, Any]:
    """Validate a canonical input with its schema; every offending field in one VALIDATION_FAILED answer.

    `paths` maps canonical prefixes back to the client's; `issues` are the shape normaliser's own findings (a
    container of the wrong type), reported with the field errors. An issue wins over a field error at its path:
    the field could not be located, so "is required" would be a second, wrong answer for one mistake."""
    paths = paths or {}
    if schema.is_valid():
        details = list(issues)
    else:
        leaves = _leaves(schema.errors, "")
        required_codes = getattr(schema, "required_codes", {})
        for path, message in leaves:
            code = getattr(message, "code", None) if isinstance(message, DrfErrorDetail) else None
            if path in required_codes and code in _MISSING_CODES:
                error_code, text = required_codes[path]
                sent = path_sent(path=path, paths=paths)
                raise ApiError(error_code, text, details=[ErrorDetail(path=sent, message=REQUIRED_MESSAGE)])
        taken = {issue.path for issue in issues}
        details = list(issues)
        for path, message in leaves:
            sent = path_sent(path=path, paths=paths)
            if sent not in taken:
                details.append(ErrorDetail(path=sent, message=str(message)))
    if details:
        raise validation_error(details)
    return dict(schema.validated_data)


# --- Fields --------------------------------------------------------------------------------------------------------


class _Absent:
    """Wire values that mean "not sent" for this field (JSON null, an empty form value): the field's default
    applies, or it is left out of the validated data."""

    absent_values: tuple[object, ...] = (None,)

    def run_validation(self, data=empty):
        # Before the field's own handling: DRF's CharField answers "" itself, ahead of its empty-value checks.
        if data is not empty and any(type(data) is type(value) and data == value for value in self.absent_values):
            data = empty
        return super().run_validation(data)  # type: ignore[misc]


class TextField(serializers.CharField):
    """A JSON string (no numbers turned into text); null allowed where `allow_null`."""

    def __init__(self, *, max_length: int | None = None, **kwargs) -> None:
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        message = "must be a string or null" if kwargs.get("allow_null") else "must be a string"
        self.type_message = kwargs.pop("type_message", message)
        messages = {"invalid": self.type_message, "null": self.type_message, "blank": self.type_message}
        if max_length is not None:
            messages["max_length"] = f"must be at most {max_length} characters"
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not `true`, not `1.5`, not `"5"`. One message for every refusal, naming the range."""

    def __init__(self, *, message: str, **kwargs) -> None:
        messages = {key: message for key in ("invalid", "null", "min_value", "max_value", "max_string_length")}
        super().__init__(error_messages=messages, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


class ChoiceField(serializers.ChoiceField):
    """One of the listed values; "must be one of a, b, c" otherwise."""

    def __init__(self, *, choices, **kwargs) -> None:
        super().__init__(choices=choices, **kwargs)
        message = f"must be one of {', '.join(str(choice) for choice in self.choices)}"
        self.error_messages.update(invalid_choice=message, null=message, blank=message)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int) or data not in self.choices:
            self.fail("invalid_choice", input=data)
        return data


class OptionalChoiceField(_Absent, ChoiceField):
    """A choice whose null means "not sent"."""


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class FlagField(_Absent, serializers.BooleanField):
    """JSON booleans, or form text `true`/`false`/`1`/`0`/`yes`/`no`/`on`/`off`; null or "" is the default."""

    absent_values = (None, "")
    default_error_messages = {"invalid": "must be true or false", "null": "must be true or false"}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.strip().lower() in _TRUE | _FALSE:
            return data.strip().lower() in _TRUE
        if isinstance(data, int) and data in (0, 1):
            return bool(data)
        self.fail("invalid")


class RetentionDaysField(_Absent, serializers.ChoiceField):
    """1, 3 or 7 days (form text accepted); null or "" is "the account's default"."""

    absent_values = (None, "")

    def __init__(self, *, choices=RETENTION_CHOICES, **kwargs) -> None:
        # The app's labelled choices may be passed, so the OpenAPI document names one enum for every use.
        super().__init__(choices=choices, **kwargs)
        message = f"must be one of {', '.join(str(days) for days in RETENTION_CHOICES)}"
        self.error_messages.update(invalid_choice=message, null=message)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip().isdigit():
            data = int(data.strip())
        if isinstance(data, bool) or not isinstance(data, int) or data not in RETENTION_CHOICES:
            self.fail("invalid_choice", input=data)
        return data


class CustomerIdField(_Absent, serializers.CharField):
    """The merchant's end-user id: 1-255 characters that PostgreSQL can store and `DELETE /customers/{id}` can
    address (no leading or trailing "/", no "//": the route's optional trailing slash takes a final "/", and
    proxies merge "//"); null means not sent."""

    _LENGTH = "must be a string of 1-255 characters"
    default_error_messages = {
        "invalid": _LENGTH,
        "blank": _LENGTH,
        "max_length": _LENGTH,
        "unstorable": UNSTORABLE_MESSAGE,
        "slash": CUSTOMER_ID_SLASH_MESSAGE,
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=255, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip() or len(data) > 255:
            self.fail("invalid")
        if text_unstorable(data):
            self.fail("unstorable")
        if data.startswith("/") or data.endswith("/") or "//" in data:
            self.fail("slash")
        return data


class HttpUrlField(serializers.URLField):
    """An absolute http(s) URL with a host, no whitespace and a valid port. Syntax only: whatever is downloaded or
    called goes through the safe fetcher, whose rules (addresses, ports) apply when it connects."""

    def __init__(self, *, max_length: int, **kwargs) -> None:
        super().__init__(max_length=max_length, **kwargs)
        self.validators = []  # Django's URLValidator would be a second, different opinion of what a URL is.
        self.error_messages.update(
            invalid="must be a valid http or https URL",
            type="must be a non-empty string",
            null="must be a non-empty string",
            blank="must be a non-empty string",
            max_length=f"must be at most {max_length} characters",
        )

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data:
            self.fail("type")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        try:
            parsed = urlsplit(data)
            parsed.port  # noqa: B018 - raises ValueError on an invalid port
        except ValueError:
            self.fail("invalid")
        if parsed.scheme.lower() not in ("http", "https") or not parsed.hostname or any(c.isspace() for c in data):
            self.fail("invalid")
        return data


class OptionalTextField(_Absent, TextField):
    """A string whose null or "" means "not sent"."""

    absent_values = (None, "")


class OptionalHttpUrlField(_Absent, HttpUrlField):
    """A URL whose null or "" means "not sent"."""

    absent_values = (None, "")


class FileKeyField(TextField):
    """The name of a multipart part holding the bytes."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_blank=False, type_message="must be a non-empty string", **kwargs)


class FilePartField(serializers.FileField):
    """A multipart file part, taken as it came: its size and bytes are judged by the one image path, so an empty
    part is an invalid image (INVALID_IMAGE), not a field error."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_empty_file=True, use_url=False, **kwargs)
        self.error_messages.update(invalid="must be a file part", null="must be a file part", required=REQUIRED_MESSAGE)

    def to_internal_value(self, data):
        if not isinstance(data, UploadedFile):
            self.fail("invalid")
        return data


class JsonObjectField(serializers.DictField):
    """Any JSON object, at most `max_bytes` once serialized compactly; null allowed."""

    def __init__(self, *, max_bytes: int, **kwargs) -> None:
        self.max_bytes = max_bytes
        super().__init__(allow_null=True, **kwargs)
        self.error_messages.update(not_a_dict="must be a JSON object or null")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > self.max_bytes:
            raise serializers.ValidationError(f"must be at most {self.max_bytes} bytes once serialized (got {size})")
        return data


def object_schema(schema: type[serializers.Serializer], **kwargs) -> serializers.Serializer:
    """A nested object of the body, with the API's message for a value that is not an object."""
    messages = {"invalid": OBJECT_MESSAGE, "null": OBJECT_MESSAGE, "required": REQUIRED_MESSAGE}
    return schema(error_messages={**messages, **kwargs.pop("error_messages", {})}, **kwargs)
