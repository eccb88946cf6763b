"""Google's SDK (``google-genai``) as Gemini and Vertex AI both use it: HTTP options and error mapping."""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass

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
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
# google.protobuf.Duration in its JSON form: "36s", "0.5s", "1.250s".
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
# A quota whose limit is zero (a model the project's tier does not include) says so in the message.
_ZERO_LIMIT = re.compile(r"\blimit:\s*0\b")


@dataclass(frozen=True)
class QuotaInfo:
    """What a Google error's `details` say about a refusal: when to retry, and which quotas were hit."""

    retry_delay: float | None
    quota_ids: tuple[str, ...]

    @property
    def daily(self) -> bool:
        # Quota ids and metrics name their window: GenerateRequestsPerDayPerProjectPerModel, ..._per_day.
        return any("perday" in quota.lower().replace("_", "") for quota in self.quota_ids)


def quota_info(details: object) -> QuotaInfo:
    """RetryInfo.retryDelay and QuotaFailure violations from a Google API error body (`{"error": {...}}`)."""
    error = details.get("error", details) if isinstance(details, dict) else {}
    items = error.get("details") if isinstance(error, dict) else None
    retry_delay: float | None = None
    quota_ids: list[str] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("@type")
        if kind == _RETRY_INFO:
            match = _DURATION.match(str(item.get("retryDelay") or ""))
            if match:
                retry_delay = float(match.group(1))
        elif kind == _QUOTA_FAILURE:
            for violation in item.get("violations") or []:
                if isinstance(violation, dict):
                    quota_ids.extend(str(violation[key]) for key in ("quotaId", "quotaMetric") if violation.get(key))
    return QuotaInfo(retry_delay=retry_delay, quota_ids=tuple(quota_ids))


def _rate_limit_error(exc: genai_errors.APIError, *, provider: str, message: str) -> EngineError:
    info = quota_info(exc.details)
    if info.daily or _ZERO_LIMIT.search(exc.message or ""):
        # Waiting minutes will not help: the quota resets at the provider's day boundary or needs a plan change.
        window = "daily" if info.daily else "zero"
        return EngineError(
            EngineErrorCode.ENGINE_QUOTA_EXCEEDED,
            f"{provider} {window} quota is exhausted; raise the quota or wait for it to reset. ({message})",
        )
    return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=True, retry_after=info.retry_delay)


def map_google_exception(exc: Exception, *, provider: str, model_setting: str = "") -> EngineError:
    """Translate what google-genai / google-auth raise into the engine error contract.

    `model_setting` names the setting that picks the model, so a retired or unknown model id (404) tells the
    operator what to change."""
    if isinstance(exc, EngineError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        code = int(exc.code or 0)
        status = exc.status or ""
        detail = short(exc.message or "")
        message = f"{provider} API returned HTTP {code} {status}: {detail}".rstrip(": ")
        if code == 429:
            return _rate_limit_error(exc, provider=provider, message=message)
        if code in _RETRYABLE_STATUSES or code >= 500:
            return EngineError(
                EngineErrorCode.ENGINE_ERROR, message, retryable=True, retry_after=quota_info(exc.details).retry_delay
            )
        if code == 404 and model_setting:
            return EngineError(
                EngineErrorCode.ENGINE_ERROR,
                f"{provider} does not serve this model (retired or unknown); set {model_setting} to a current "
                f"model id. ({message})",
            )
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
