"""FASHN virtual try-on API as a try-on engine: submit a job to ``/v1/run``, poll ``/v1/status/{id}``.

Outbound calls go only to the operator-configured FASHN host, so plain ``requests`` is used (not the
customer-URL fetcher); every call has explicit connect/read timeouts and the whole job an overall deadline.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from engines.base import Category, EngineError, EngineErrorCode, TryOnRequest, TryOnResult
from engines.hosted.common import DEFAULT_TIMEOUT_SECONDS, data_url, inspect_image, short

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.fashn.ai"
DEFAULT_MODEL = "tryon-v1.6"
DEFAULT_MODE = "balanced"
POLL_INTERVAL_SECONDS = 1.0
_CONNECT_TIMEOUT = 5.0
# The submit call uploads two base64 images; status calls are small.
_SUBMIT_READ_TIMEOUT = 30.0
_STATUS_READ_TIMEOUT = 10.0
# A status poll that fails this many times in a row gives up; single blips are ridden out until the deadline.
_MAX_POLL_FAILURES = 3

_CATEGORIES = {
    Category.TOPS: "tops",
    Category.OUTERWEAR: "tops",
    Category.BOTTOMS: "bottoms",
    Category.DRESSES: "one-pieces",
    Category.AUTO: "auto",
}
_PENDING_STATUSES = frozenset({"starting", "in_queue", "processing"})
# API-level errors (no job created) that waiting will not fix.
_TERMINAL_API_ERRORS = frozenset({"OutOfCredits"})
# Runtime errors (the job ran and failed) that a new attempt may get past.
_RETRYABLE_RUNTIME_ERRORS = frozenset({"PipelineError", "3rdPartyProviderError", "InternalServerError"})


class OutputFetchError(Exception):
    """Raised by a config's `fetch_output` when a result URL cannot be downloaded."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _no_download(url: str) -> bytes:
    raise OutputFetchError("no downloader is configured for URL outputs", retryable=False)


@dataclass(frozen=True)
class FashnConfig:
    api_key: str = ""
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    mode: str = DEFAULT_MODE
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    # Downloads a result URL (an account or model ignoring ``return_base64``). The server passes its one safe
    # fetcher here; the engine itself makes no request outside the configured FASHN host.
    fetch_output: Callable[[str], bytes] = _no_download


class FashnEngine:
    """Runs FASHN's try-on model; ``sleep``/``clock`` are injectable so tests poll without waiting."""

    name = "fashn"

    def __init__(
        self,
        config: FashnConfig | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = POLL_INTERVAL_SECONDS,
    ) -> None:
        self.config = config or FashnConfig()
        self._sleep = sleep
        self._clock = clock
        self._poll_interval = poll_interval

    @property
    def version(self) -> str:
        return self.config.model

    def run(self, request: TryOnRequest) -> TryOnResult:
        config = self.config
        if not config.api_key:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, "The FASHN engine is not configured (TRYON_FASHN_API_KEY).")
        if not request.garment_images:
            raise EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, "The product has no image to try on.")
        started = self._clock()
        deadline = started + config.timeout_seconds
        inputs: dict[str, object] = {
            "model_image": data_url(request.person_image, code=EngineErrorCode.CUSTOMER_IMAGE_INVALID),
            # The model takes one garment image; the first one is the product's main photo.
            "garment_image": data_url(request.garment_images[0], code=EngineErrorCode.PRODUCT_IMAGE_INVALID),
            "category": _CATEGORIES[Category(request.category)],
            "mode": config.mode,
            "output_format": "png",
            # Base64 output needs no download from a third-party CDN, and FASHN then keeps no copy of the result.
            "return_base64": True,
        }
        if request.options.seed is not None:
            inputs["seed"] = request.options.seed
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {config.api_key}"
            job_id = self._submit(session, config=config, inputs=inputs, deadline=deadline)
            submitted = self._clock()
            payload, polls = self._wait(session, config=config, job_id=job_id, deadline=deadline)
        image, mime_type = _output_image(payload, fetch=config.fetch_output)
        finished = self._clock()
        logger.info("fashn try-on done", extra={"job_id": job_id, "polls": polls})
        return TryOnResult(
            image=image,
            content_type=mime_type,
            engine=self.name,
            engine_version=config.model,
            timings_ms={
                "submit": (submitted - started) * 1000,
                "remote": (finished - submitted) * 1000,
                "total": (finished - started) * 1000,
            },
            diagnostics={"model": config.model, "job_id": job_id, "polls": polls, "mode": config.mode},
        )

    def _submit(
        self, session: requests.Session, *, config: FashnConfig, inputs: dict[str, object], deadline: float
    ) -> str:
        body = {"model_name": config.model, "inputs": inputs}
        response = self._call(
            session,
            "POST",
            f"{config.base_url}/v1/run",
            json=body,
            read_timeout=_SUBMIT_READ_TIMEOUT,
            deadline=deadline,
        )
        if response.status_code != 200:
            raise _api_error(response)
        payload = _json(response)
        if payload.get("error"):
            raise _runtime_error(payload["error"])
        job_id = payload.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, "FASHN accepted the job without an id.", retryable=True)
        return job_id

    def _wait(
        self, session: requests.Session, *, config: FashnConfig, job_id: str, deadline: float
    ) -> tuple[dict[str, object], int]:
        url = f"{config.base_url}/v1/status/{job_id}"
        polls = 0
        failures = 0
        while True:
            self._sleep(min(self._poll_interval, max(deadline - self._clock(), 0.0)))
            if self._clock() >= deadline:
                logger.warning("fashn job timed out", extra={"job_id": job_id, "polls": polls})
                raise EngineError(
                    EngineErrorCode.ENGINE_ERROR,
                    f"FASHN did not finish within {config.timeout_seconds:g} s.",
                    retryable=True,
                )
            polls += 1
            try:
                response = self._call(session, "GET", url, read_timeout=_STATUS_READ_TIMEOUT, deadline=deadline)
                payload = _json(response) if response.status_code == 200 else None
            except EngineError as exc:
                failures += 1
                if not exc.retryable or failures >= _MAX_POLL_FAILURES:
                    raise
                continue
            if response.status_code == 404:
                # FASHN stopped tracking the job; the inputs are fine, so a new submission may succeed.
                raise EngineError(EngineErrorCode.ENGINE_ERROR, "FASHN lost track of the job.", retryable=True)
            if payload is None:
                error = _api_error(response)
                failures += 1
                if not error.retryable or failures >= _MAX_POLL_FAILURES:
                    raise error
                continue
            failures = 0
            status = payload.get("status")
            if status == "completed":
                return payload, polls
            if status == "failed":
                raise _runtime_error(payload.get("error"))
            if status not in _PENDING_STATUSES:
                # canceled / time_out on FASHN's side: nothing wrong with the inputs, a new job may succeed.
                raise EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN job ended as {status!r}.", retryable=True)

    def _call(
        self,
        session: requests.Session,
        method: str,
        url: str,
        *,
        read_timeout: float,
        deadline: float,
        json: dict[str, object] | None = None,
    ) -> requests.Response:
        remaining = max(deadline - self._clock(), 0.1)
        timeout = (min(_CONNECT_TIMEOUT, remaining), min(read_timeout, remaining))
        try:
            return session.request(method, url, json=json, timeout=timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            kind = "timed out" if isinstance(exc, requests.Timeout) else "failed to connect"
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN request {kind}.", retryable=True) from exc
        except requests.RequestException as exc:
            # Malformed URL or similar: a configuration problem that retrying cannot fix.
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN request failed ({type(exc).__name__}).") from exc


def _json(response: requests.Response) -> dict[str, object]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise EngineError(EngineErrorCode.ENGINE_ERROR, "FASHN answered with invalid JSON.", retryable=True) from exc
    if not isinstance(payload, dict):
        raise EngineError(EngineErrorCode.ENGINE_ERROR, "FASHN answered with unexpected JSON.", retryable=True)
    return payload


def _api_error(response: requests.Response) -> EngineError:
    """An HTTP-level refusal (no job created): auth, validation, rate or credit limits, server errors."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    error = body.get("error")
    name = str(error.get("name", "") if isinstance(error, dict) else error or "")
    detail = str(body.get("message") or (error.get("message") if isinstance(error, dict) else "") or "")
    message = f"FASHN API returned HTTP {response.status_code} {name}: {short(detail)}".rstrip(": ")
    status = response.status_code
    retryable = (status in (408, 429) or status >= 500) and name not in _TERMINAL_API_ERRORS
    return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=retryable)


def _runtime_error(error: object) -> EngineError:
    """A job that ran and failed, mapped by FASHN's error name."""
    if isinstance(error, dict):
        name, detail = str(error.get("name", "")), str(error.get("message", ""))
    else:
        name, detail = str(error or ""), ""
    text = f"{name}: {short(detail)}".strip(": ") or "unknown error"
    lowered = detail.lower()
    mentions_garment = "garment" in lowered or "product" in lowered
    if name == "PoseError":
        code = EngineErrorCode.PRODUCT_IMAGE_INVALID if mentions_garment else EngineErrorCode.PERSON_NOT_DETECTED
        return EngineError(code, f"FASHN could not detect the body pose ({text}).")
    if name == "ImageLoadError":
        mentions_person = "model image" in lowered or "model_image" in lowered or "person" in lowered
        code = (
            EngineErrorCode.CUSTOMER_IMAGE_INVALID
            if mentions_person and not mentions_garment
            else EngineErrorCode.PRODUCT_IMAGE_INVALID
        )
        return EngineError(code, f"FASHN could not load an input image ({text}).")
    if name in ("ContentModerationError", "ThirdPartyError"):
        return EngineError(EngineErrorCode.CONTENT_REJECTED, f"FASHN refused the images ({text}).")
    if name in _RETRYABLE_RUNTIME_ERRORS:
        return EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN failed ({text}).", retryable=True)
    return EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN failed ({text}).")


def _output_image(payload: dict[str, object], *, fetch: Callable[[str], bytes]) -> tuple[bytes, str]:
    output = payload.get("output")
    first = output[0] if isinstance(output, list) and output else None
    if not isinstance(first, str) or not first:
        raise EngineError(EngineErrorCode.ENGINE_ERROR, "FASHN completed without an output image.", retryable=True)
    if first.startswith("data:"):
        encoded = first.partition(",")[2]
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, "FASHN returned a malformed image.", retryable=True
            ) from exc
    else:
        data = _download(first, fetch=fetch)
    # The declared type is not trusted: the bytes decide, as everywhere else in the server.
    mime_type, _ = inspect_image(data, code=EngineErrorCode.ENGINE_ERROR)
    return data, mime_type


def _download(url: str, *, fetch: Callable[[str], bytes]) -> bytes:
    try:
        return fetch(url)
    except OutputFetchError as exc:
        raise EngineError(
            EngineErrorCode.ENGINE_ERROR, f"The FASHN result could not be downloaded: {exc}", retryable=exc.retryable
        ) from exc
