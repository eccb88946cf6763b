"""OpenAPI helpers: the one error body and its codes, documented on every operation."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from tryon_project.api.errors import ErrorCode

_DETAIL = inline_serializer(
    name="ErrorDetail",
    fields={"path": serializers.CharField(), "message": serializers.CharField()},
)

ErrorBody = inline_serializer(
    name="Error",
    fields={
        "code": serializers.ChoiceField(choices=[c.name for c in ErrorCode]),
        "message": serializers.CharField(),
        "status": serializers.IntegerField(),
        "details": serializers.ListField(child=_DETAIL, required=False),
    },
)


def _codes_for(status: int) -> list[str]:
    return [c.name for c in ErrorCode if c.http_status == status]


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for an operation; 500 is always added."""
    out: dict[int, OpenApiResponse] = {}
    for status in (*statuses, 500):
        codes = ", ".join(f"`{c}`" for c in _codes_for(status))
        out[status] = OpenApiResponse(response=ErrorBody, description=f"Error body; code one of {codes}.")
    return out


def strip_optional_trailing_slash(endpoints, **kwargs):
    """Routes accept an optional trailing slash; document the canonical form without it."""
    return [(path.rstrip("/") or "/", regex, method, callback) for path, regex, method, callback in endpoints]
