"""Middleware for the public API: request ids, the total size limit, the per-request pixel budget, and the error
shape for responses that never reach a DRF view (unknown routes, crashes outside views, Django's own 4xx/5xx pages).

The error shape covers every path the server answers except the dashboard and its static files, which are HTML
for people: the API, `/files/` (signed URLs), the probes, and unknown paths."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.api.exception_handler import to_api_error
from tryon_project.api.fields import text_unstorable
from tryon_project.api.request_id import bind_request_id, choose_request_id, unbind_request_id
from tryon_project.api.responses import error_response, error_response_for
from tryon_project.images import request_pixel_budget

logger = logging.getLogger("tryon.api")

_STATUS_CODES = {
    400: ErrorCode.MALFORMED_REQUEST,
    401: ErrorCode.MISSING_API_KEY,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def _is_api(request: HttpRequest) -> bool:
    """Whether errors on this path answer the JSON error body (everything but the dashboard's HTML pages)."""
    return not request.path.startswith(("/dashboard/", settings.STATIC_URL))


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = choose_request_id(incoming=request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = bind_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind_request_id(token)
        response["X-Request-ID"] = request_id
        rate = getattr(request, "tryon_rate_limit", None)
        if rate is not None:
            limit, remaining, reset_in = rate
            response["X-RateLimit-Limit"] = str(limit)
            response["X-RateLimit-Remaining"] = str(remaining)
            response["X-RateLimit-Reset"] = str(reset_in)
        return response


def _url_unstorable(request: HttpRequest) -> bool:
    """Path parameters and query values reach database lookups, which fail on what `text_unstorable` refuses."""
    if text_unstorable(request.path):
        return True
    return any(text_unstorable(key) or any(text_unstorable(v) for v in values) for key, values in request.GET.lists())


class ApiErrorShapeMiddleware:
    """Guarantees the documented error body (docs/errors.md) on every API response >= 400, whatever produced it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _is_api(request):
            return self.get_response(request)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > settings.TRYON_MAX_REQUEST_BYTES:
            return error_response_for(ErrorCode.PAYLOAD_TOO_LARGE, "The request is over the total size limit.")
        if _url_unstorable(request):
            return error_response_for(
                ErrorCode.MALFORMED_REQUEST, "The URL holds a NUL character or an unpaired surrogate."
            )
        response = self.get_response(request)
        if response.status_code >= 400 and response.get("Content-Type", "").split(";")[0] != "application/json":
            code = _STATUS_CODES.get(response.status_code, ErrorCode.INTERNAL_ERROR)
            if response.status_code >= 500 and code is ErrorCode.INTERNAL_ERROR:
                return error_response_for(ErrorCode.INTERNAL_ERROR, "An internal error occurred.")
            replaced = error_response_for(code, _default_message(code))
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            return replaced
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not _is_api(request):
            return None
        error = to_api_error(exc)
        if error is None:
            logger.exception("unhandled exception outside an API view")
            error = ApiError(ErrorCode.INTERNAL_ERROR, "An internal error occurred.")
        return error_response(error)


class PixelBudgetMiddleware:
    """Every image an API request decodes, from any part or URL, is charged to one budget of
    ``TRYON_MAX_REQUEST_PIXELS`` (tryon_project/images.py). The dashboard is staff-only and has no budget."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(settings.TRYON_API_PREFIX):
            return self.get_response(request)
        with request_pixel_budget(limit=settings.TRYON_MAX_REQUEST_PIXELS):
            return self.get_response(request)


def _default_message(code: ErrorCode) -> str:
    return {
        ErrorCode.NOT_FOUND: "No such route.",
        ErrorCode.METHOD_NOT_ALLOWED: "This method is not allowed on this route.",
        ErrorCode.PAYLOAD_TOO_LARGE: "The request is over the size limit.",
        ErrorCode.MALFORMED_REQUEST: "The request could not be parsed.",
    }.get(code, code.cause)
