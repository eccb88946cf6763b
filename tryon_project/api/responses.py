from __future__ import annotations

from django.http import JsonResponse

from tryon_project.api.errors import ApiError, ErrorCode

# The same compact separators as DRF's renderer, so every body of the API looks alike.
COMPACT = {"separators": (",", ":")}


def error_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.http_status, json_dumps_params=COMPACT)
    for name, value in error.headers.items():
        response[name] = value
    return response


def error_response_for(code: ErrorCode, message: str = "") -> JsonResponse:
    return error_response(ApiError(code, message))
