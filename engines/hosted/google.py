"""Google's SDK (``google-genai``) as Gemini and Vertex AI both use it: HTTP options and error mapping."""

from __future__ import annotations

import importlib
import logging
import re

from google.auth import exceptions as auth_exceptions
from google.genai import errors as genai_errors
from google.genai import types

from engines.base import EngineError, EngineErrorCode
from engines.hosted.common import short

logger = logging.getLogger(__name__)


def http_options(*, base_url: str, timeout_seconds: float) -> types.HttpOptions:
    return types.HttpOptions(
        base_url=base_url or None,
        timeout=max(1, int(timeout_seconds * 1000)),
        # One attempt only: retries belong to the task queue, which backs off and caps attempts per generation.
        retry_options=types.HttpRetryOptions(attempts=1),
    )


def enum_name(value: object) -> str:
    return str(getattr(value, "value", value))


def _transport_error_classes() -> tuple[type[Exception], ...]:
    # google-genai sends through httpx2 (3.x) or httpx (older releases); either may be what raised.
    classes: list[type[Exception]] = [auth_exceptions.TransportError]
    for module_name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        classes.append(module.TransportError)
    return tuple(classes)


_TRANSPORT_ERRORS = _transport_error_classes()
# What a call through google-genai can raise for reasons outside this code: HTTP errors, network errors, and
# the SDK's ValueError/RuntimeError for configuration it cannot resolve (project, credentials, token).
GOOGLE_EXCEPTIONS: tuple[type[Exception], ...] = (
    genai_errors.APIError,
    auth_exceptions.GoogleAuthError,
    ValueError,
    RuntimeError,
    *_TRANSPORT_ERRORS,
)
_RETRYABLE_STATUSES = frozenset({408, 429, 499})
_SAFETY_WORDS = re.compile(r"safety|responsible ai|usage guidelines|prohibited|sensitive", re.IGNORECASE)


def map_google_exception(exc: Exception, *, provider: str) -> EngineError:
    """Translate what google-genai / google-auth raise into the engine error contract."""
    if isinstance(exc, EngineError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        code = int(exc.code or 0)
        status = exc.status or ""
        detail = short(exc.message or "")
        message = f"{provider} API returned HTTP {code} {status}: {detail}".rstrip(": ")
        if code in _RETRYABLE_STATUSES or code >= 500:
            return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=True)
        if code == 400 and _SAFETY_WORDS.search(detail):
            return EngineError(EngineErrorCode.CONTENT_REJECTED, f"{provider} refused the request: {detail}")
        if code in (401, 403):
            return EngineError(EngineErrorCode.ENGINE_ERROR, f"{provider} rejected the credentials: {message}")
        return EngineError(EngineErrorCode.ENGINE_ERROR, message)
    if isinstance(exc, _TRANSPORT_ERRORS):
        kind = "timed out" if "timeout" in type(exc).__name__.lower() else "failed to connect"
        return EngineError(EngineErrorCode.ENGINE_ERROR, f"{provider} request {kind}.", retryable=True)
    if isinstance(exc, auth_exceptions.DefaultCredentialsError):
        return EngineError(
            EngineErrorCode.ENGINE_ERROR,
            f"{provider} credentials are not configured (GOOGLE_APPLICATION_CREDENTIALS).",
        )
    if isinstance(exc, auth_exceptions.GoogleAuthError):
        return EngineError(EngineErrorCode.ENGINE_ERROR, f"{provider} credentials were refused: {short(str(exc))}")
    # The SDK's ValueError/RuntimeError: configuration it could not resolve; retrying will not fix it.
    logger.warning("%s request could not be made: %s", provider, type(exc).__name__)
    return EngineError(EngineErrorCode.ENGINE_ERROR, f"{provider} is not usable as configured: {short(str(exc))}")
