"""OpenAPI helpers: the one error body and its codes, documented on every operation."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, inline_serializer
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
    """Error responses for an operation. Every operation can also answer 400 (a URL holding what no database
    text can store: `MALFORMED_REQUEST`), 500 and 503 (a backing service is down)."""
    out: dict[int, OpenApiResponse] = {}
    for status in sorted({*statuses, 400, 500, 503}):
        codes = ", ".join(f"`{c}`" for c in _codes_for(status))
        out[status] = OpenApiResponse(response=ErrorBody, description=f"Error body; code one of {codes}.")
    return out


def strip_optional_trailing_slash(endpoints, **kwargs):
    """Routes accept an optional trailing slash; document the canonical form without it."""
    return [(path.rstrip("/") or "/", regex, method, callback) for path, regex, method, callback in endpoints]


def multipart_json_request(serializer) -> OpenApiRequest:
    """A multipart body whose `data` part holds the JSON body (docs/api.md "Multipart"); the other parts are the
    files that `fileKey` entries name, so they are not listed."""
    return OpenApiRequest(serializer, encoding={"data": {"contentType": "application/json"}})
