"""Request bodies of the write endpoints that take files: JSON, or multipart whose `data` field holds the JSON
body as a string and whose other parts carry the bytes that `fileKey` entries name (docs/api.md "Multipart")."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request

from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.api.fields import json_unstorable
from tryon_project.api.json_guard import BoundedJSONParser, json_loads_bounded

BODY_PARSERS = [BoundedJSONParser, MultiPartParser]


@dataclass
class ParsedBody:
    data: dict
    files: dict[str, UploadedFile] = field(default_factory=dict)
    is_multipart: bool = False

    def file(self, *, key: str, path: str) -> UploadedFile:
        """The part a `fileKey` names, positioned at its first byte; MULTIPART_FILE_NOT_FOUND (with the JSON path)
        when absent. One part may be named by several entries (the same photo as product and customer image): each
        caller reads it whole, from the start."""
        upload = self.files.get(key)
        if upload is None:
            raise ApiError(
                ErrorCode.MULTIPART_FILE_NOT_FOUND,
                f"No multipart file part named '{key[:100]}'.",
                details=[ErrorDetail(path=path, message=f"no form part named '{key[:100]}'")],
            )
        upload.seek(0)
        return upload


def body_parse(*, request: Request) -> ParsedBody:
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/"):
        raw = request.data.get("data")
        if raw is None:
            raise ApiError(ErrorCode.MALFORMED_REQUEST, "Multipart requests carry the JSON body in a 'data' field.")
        if isinstance(raw, UploadedFile):
            raw = raw.read().decode("utf-8", errors="replace")
        try:
            data = json_loads_bounded(raw)
        except (ValueError, TypeError) as exc:
            raise ApiError(ErrorCode.MALFORMED_REQUEST, "The 'data' field is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise ApiError(ErrorCode.MALFORMED_REQUEST, "The 'data' field must hold a JSON object.")
        _refuse_unstorable(data)
        files = {name: request.FILES[name] for name in request.FILES}
        return ParsedBody(data=data, files=files, is_multipart=True)
    data = request.data
    if not isinstance(data, dict):
        raise ApiError(ErrorCode.MALFORMED_REQUEST, "The body must be a JSON object.")
    _refuse_unstorable(data)
    return ParsedBody(data=dict(data))


def _refuse_unstorable(data: dict) -> None:
    details = json_unstorable(data=data)
    if details:
        raise validation_error(details)
