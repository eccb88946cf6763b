"""The one wire format for timestamps: ISO 8601 UTC with milliseconds, e.g. `2026-05-13T10:00:00.000Z` (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers


def iso_ms(value: datetime | None) -> str | None:
    """Format an aware datetime for the wire; None stays None (the product object uses explicit nulls)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


class IsoMsDateTimeField(serializers.DateTimeField):
    """A read-only DateTimeField that renders with :func:`iso_ms`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: datetime | None) -> str | None:
        return iso_ms(value)
