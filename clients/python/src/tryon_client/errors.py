"""Typed exceptions: one class per family of the server's error codes (docs/errors.md).

Every error the API answers has the body `{code, message, status[, details]}` and an `X-Request-ID` header;
`TryOnError` carries all of them. Branch on the class (or on `code`), never on `message`.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from tryon_client.models import ErrorDetail, Generation


class TryOnError(Exception):
    """Base of everything this client raises.

    `status` is the HTTP status, or None when no answer came (a connection failure, a wait that timed out);
    `request_id` is the answer's `X-Request-ID` (quote it when reporting a problem)."""

    def __init__(
        self,
        *,
        code: str,
        message: str,
        status: int | None = None,
        details: list[ErrorDetail] | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.details: list[ErrorDetail] = list(details or [])
        self.request_id = request_id
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.status} {self.code}: {self.message}" if self.status else f"{self.code}: {self.message}"
        if self.details:
            text += " (" + "; ".join(f"{d['path']}: {d['message']}" for d in self.details) + ")"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (`Retry-After`), when it said so."""
        return retry_after_seconds(header=self.headers.get("retry-after"))


class ValidationError(TryOnError):
    """400: the request was refused as sent; `details` names each offending field."""


class AuthenticationError(TryOnError):
    """401: the key is missing, unknown or revoked, or its account is inactive."""


class InsufficientCreditsError(TryOnError):
    """402: no credit left; nothing was created or charged."""


class PermissionDeniedError(TryOnError):
    """403: the object belongs to another account."""


class NotFoundError(TryOnError):
    """404: the object (or route) does not exist, or has expired."""


class ProductNotFoundError(NotFoundError):
    """404 PRODUCT_NOT_FOUND: send the call again with the full product inline."""


class GenerationNotFoundError(NotFoundError):
    """404 GENERATION_NOT_FOUND."""


class ImageNotFoundError(NotFoundError):
    """404 IMAGE_NOT_FOUND: the upload is unknown, expired, erased or of another account."""


class MethodNotAllowedError(TryOnError):
    """405."""


class IdempotencyError(TryOnError):
    """An `Idempotency-Key` could not be honoured (409 in use, 422 reused with another body)."""


class IdempotencyKeyInUseError(IdempotencyError):
    """409: the first request with this key is still running; send it again after `retry_after`."""


class IdempotencyKeyReusedError(IdempotencyError):
    """422: this key was already used with a different request."""


class PayloadTooLargeError(TryOnError):
    """413: a file or the whole request is over the server's limit."""


class UnsupportedMediaTypeError(TryOnError):
    """415: JSON sent where multipart is required, or the other way round."""


class RateLimitedError(TryOnError):
    """429: over the account's rate limit; the call did nothing. Wait `retry_after` seconds."""


class ServerError(TryOnError):
    """5xx: retry with backoff (writes only with an `Idempotency-Key`)."""


class ServiceUnavailableError(ServerError):
    """503: a backing service is down; `retry_after` when the server named a delay."""


class APIConnectionError(TryOnError):
    """No answer: the connection failed or timed out (`status` is None). The call may or may not have run."""


class WaitTimeoutError(TryOnError, TimeoutError):
    """`wait_for` gave up before the generation reached a terminal status; `generation` is the last one seen."""

    def __init__(self, *, generation_id: str, timeout: float, generation: Generation | None) -> None:
        self.generation_id = generation_id
        self.timeout = timeout
        self.generation = generation
        last = generation["status"] if generation is not None else "not seen"
        super().__init__(code=WAIT_TIMEOUT, message=f"{generation_id} still {last} after {timeout:g} s")


# Codes of errors this client raises without an error body from the server.
CONNECTION_ERROR = "CONNECTION_ERROR"
WAIT_TIMEOUT = "WAIT_TIMEOUT"
UNKNOWN_ERROR = "UNKNOWN_ERROR"  # an answer >= 400 without the API's error body (e.g. a proxy's own page)

# Every code of the server's catalogue (tryon_project/api/errors.py), with its status and class.
ERROR_CODES: dict[str, tuple[int, type[TryOnError]]] = {
    "VALIDATION_FAILED": (400, ValidationError),
    "MALFORMED_REQUEST": (400, ValidationError),
    "EXTERNAL_ID_REQUIRED": (400, ValidationError),
    "PRODUCT_IMAGES_REQUIRED": (400, ValidationError),
    "CUSTOMER_IMAGE_REQUIRED": (400, ValidationError),
    "FILE_REQUIRED": (400, ValidationError),
    "MULTIPART_FILE_NOT_FOUND": (400, ValidationError),
    "INVALID_IMAGE_INPUT": (400, ValidationError),
    "INVALID_IMAGE": (400, ValidationError),
    "CUSTOMER_IMAGE_FETCH_FAILED": (400, ValidationError),
    "MISSING_API_KEY": (401, AuthenticationError),
    "INVALID_API_KEY": (401, AuthenticationError),
    "INSUFFICIENT_CREDITS": (402, InsufficientCreditsError),
    "FORBIDDEN": (403, PermissionDeniedError),
    "PRODUCT_NOT_FOUND": (404, ProductNotFoundError),
    "GENERATION_NOT_FOUND": (404, GenerationNotFoundError),
    "IMAGE_NOT_FOUND": (404, ImageNotFoundError),
    "NOT_FOUND": (404, NotFoundError),
    "METHOD_NOT_ALLOWED": (405, MethodNotAllowedError),
    "IDEMPOTENCY_KEY_IN_USE": (409, IdempotencyKeyInUseError),
    "PAYLOAD_TOO_LARGE": (413, PayloadTooLargeError),
    "UNSUPPORTED_MEDIA_TYPE": (415, UnsupportedMediaTypeError),
    "IDEMPOTENCY_KEY_REUSED": (422, IdempotencyKeyReusedError),
    "RATE_LIMITED": (429, RateLimitedError),
    "INTERNAL_ERROR": (500, ServerError),
    "SERVICE_UNAVAILABLE": (503, ServiceUnavailableError),
}

# A code this client does not know yet (a newer server) still gets the class of its status. 409 and 422 are left
# out: only the API's own IDEMPOTENCY_KEY_* codes mean "the same key is in use / reused", and a 409 from a proxy
# must not be taken for one (the client would resend a request that may not be replayed).
_BY_STATUS: dict[int, type[TryOnError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def error_class_for(*, code: str, status: int) -> type[TryOnError]:
    known = ERROR_CODES.get(code)
    if known is not None:
        return known[1]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else TryOnError


def error_from_answer(*, status: int, body: Any, headers: Mapping[str, str]) -> TryOnError:
    """The typed exception for one answer >= 400 (`body` is its parsed JSON, or None when it had none)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    request_id = lowered.get("x-request-id")
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        code: str = body["code"]
        message = str(body.get("message", ""))
        details = [
            ErrorDetail(path=str(d.get("path", "")), message=str(d.get("message", "")))
            for d in body.get("details") or []
            if isinstance(d, dict)
        ]
    else:
        code, message, details = UNKNOWN_ERROR, f"HTTP {status} without an API error body", []
    cls = error_class_for(code=code, status=status)
    return cls(code=code, message=message, status=status, details=details, request_id=request_id, headers=lowered)


def retry_after_seconds(*, header: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds, or an HTTP date (RFC 9110); None when absent or unreadable."""
    if header is None:
        return None
    value = header.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
