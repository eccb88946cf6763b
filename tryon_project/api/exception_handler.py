"""DRF exception handler: every exception raised in an API view becomes the one error body (docs/errors.md)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import set_rollback

from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.api.request_schema import details_flatten
from tryon_project.api.responses import error_response
from tryon_project.images import ImageDecodeBusy, ImageRejected

logger = logging.getLogger("tryon.api")


def to_api_error(exc: Exception) -> ApiError | None:
    """Map a known exception to an ApiError; None for a genuinely unexpected one."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ImageRejected):
        # The image path's refusals carry their catalogue code; this is the one place they become a response.
        return ApiError(exc.code, exc.message)
    if isinstance(exc, ImageDecodeBusy):
        # Not a verdict on the bytes: the process is at its decoding capacity and the same request can be retried.
        return ApiError(
            ErrorCode.SERVICE_UNAVAILABLE, exc.message, headers={"Retry-After": str(exc.retry_after_seconds)}
        )
    if isinstance(exc, RequestDataTooBig):
        return ApiError(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is over the size limit.")
    if isinstance(exc, drf_exceptions.ParseError | SuspiciousOperation):
        return ApiError(ErrorCode.MALFORMED_REQUEST, "The request body could not be parsed.")
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "This Content-Type is not accepted by this route.")
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return ApiError(ErrorCode.METHOD_NOT_ALLOWED, "This method is not allowed on this route.")
    if isinstance(exc, drf_exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        return ApiError(ErrorCode.RATE_LIMITED, "Rate limit exceeded.", headers={"Retry-After": str(wait)})
    if isinstance(exc, drf_exceptions.NotAuthenticated):
        return ApiError(ErrorCode.MISSING_API_KEY, "Missing x-api-key header.")
    if isinstance(exc, drf_exceptions.AuthenticationFailed):
        return ApiError(ErrorCode.INVALID_API_KEY, "Invalid API key.")
    if isinstance(exc, drf_exceptions.PermissionDenied | PermissionDenied):
        return ApiError(ErrorCode.FORBIDDEN, "Forbidden.")
    if isinstance(exc, drf_exceptions.NotFound | Http404):
        return ApiError(ErrorCode.NOT_FOUND, "Not found.")
    if isinstance(exc, drf_exceptions.ValidationError):
        return ApiError(ErrorCode.VALIDATION_FAILED, "Request validation failed.", details=details_flatten(exc.detail))
    if isinstance(exc, OperationalError | InterfaceError):
        return ApiError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "A backing service is unavailable; retry shortly.",
            headers={"Retry-After": "5"},
        )
    return None


def api_exception_handler(exc: Exception, context: dict):
    error = to_api_error(exc)
    set_rollback()
    if error is None:
        logger.exception("unhandled exception in API view")
        error = ApiError(ErrorCode.INTERNAL_ERROR, "An internal error occurred.")
    elif error.code is ErrorCode.SERVICE_UNAVAILABLE or isinstance(exc, DatabaseError):
        logger.warning("backing service unavailable: %s", type(exc).__name__)
    return error_response(error)
