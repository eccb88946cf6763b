from __future__ import annotations

from django.http import JsonResponse

from tryon_project.api.errors import ApiError, ErrorCode


def error_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.http_status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def error_response_for(code: ErrorCode, message: str = "") -> JsonResponse:
    return error_response(ApiError(code, message))
