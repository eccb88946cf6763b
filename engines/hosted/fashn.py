"""FASHN virtual try-on API as a try-on engine: submit a job to ``/v1/run``, poll ``/v1/status/{id}``.

Outbound calls go only to the operator-configured FASHN host, so plain ``requests`` is used (not the
customer-URL fetcher); every call has explicit connect/read timeouts and the whole job an overall deadline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from engines.base import Category, EngineError, EngineErrorCode, GarmentPhotoType, Quality, TryOnRequest, TryOnResult
from engines.hosted.common import (
    DEFAULT_TIMEOUT_SECONDS,
    OutputFetchError,
    data_url,
    no_download,
    output_image,
    retry_after_seconds,
    short,
)

logger = logging.getLogger(__name__)

__all__ = ["FashnConfig", "FashnEngine", "OutputFetchError"]

DEFAULT_BASE_URL = "https://api.fashn.ai"
DEFAULT_MODEL = "tryon-v1.6"
MODELS = ("tryon-v1.6", "tryon-max")
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
# Per-call quality: tryon-v1.6 `mode` (performance/balanced/quality); tryon-max `generation_mode` has no fast one.
_V16_MODES = {Quality.FAST: "performance", Quality.BALANCED: "balanced", Quality.QUALITY: "quality"}
_MAX_MODES = {Quality.FAST: "balanced", Quality.BALANCED: "balanced", Quality.QUALITY: "quality"}
_PENDING_STATUSES = frozenset({"starting", "in_queue", "processing"})
# Ended on FASHN's side without a result (nothing wrong with the inputs): a new job may succeed.
_ENDED_STATUSES = frozenset({"canceled", "time_out"})
# API-level errors (no job created) that waiting will not fix.
_TERMINAL_API_ERRORS = frozenset({"OutOfCredits"})
# Runtime errors (the job ran and failed) that a new job may get past.
_RETRYABLE_RUNTIME_ERRORS = frozenset({"PipelineError", "3rdPartyProviderError", "InternalServerError"})


@dataclass(frozen=True)
class FashnConfig:
    api_key: str = field(default="", repr=False)  # a secret: kept out of reprs and logs
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    # tryon-v1.6 `mode` / tryon-max `generation_mode` when the call sets no quality.
    mode: str = DEFAULT_MODE
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    # tryon-v1.6 only: "conservative", "permissive" or "none"; empty leaves FASHN's default.
    moderation_level: str = ""
    # tryon-v1.6 only: None leaves FASHN's default.
    segmentation_free: bool | None = None
    # tryon-max only: "1k", "2k" or "4k" (more pixels cost more credits).
    resolution: str = "1k"
    # Downloads a result URL (an account or model ignoring ``return_base64``). The server passes its one safe
    # fetcher here; the engine itself makes no request outside the configured FASHN host.
    fetch_output: Callable[[str], bytes] = no_download


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
        inputs, ignored = self.inputs(request)
        resumed = False
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {config.api_key}"
            job_id = request.resume_job_id
            payload: dict[str, object] | None = None
            polls = 0
            if job_id:
                # An earlier attempt's job: poll it rather than submit (and pay for) the same try-on again.
                resumed = True
                payload, polls = self._wait(session, job_id=job_id, deadline=deadline, resumed=True)
                if payload is None:
                    logger.info("fashn resumed job is gone; submitting anew", extra={"job_id": job_id})
            if payload is None:
                job_id = self._submit(session, inputs=inputs, deadline=deadline)
                if request.on_job_submitted is not None:
                    request.on_job_submitted(job_id)
                resumed = False
                payload, more = self._wait(session, job_id=job_id, deadline=deadline, resumed=False)
                polls += more
        if payload is None:  # a fresh job's wait returns its payload or raises; this guards the invariant
            raise EngineError(EngineErrorCode.ENGINE_ERROR, "FASHN job ended without a result.", retryable=True)
        image, mime_type = output_image(payload.get("output"), fetch=config.fetch_output, provider="FASHN")
        finished = self._clock()
        logger.info("fashn try-on done", extra={"job_id": job_id, "polls": polls, "resumed": resumed})
        diagnostics: dict[str, object] = {
            "model": config.model,
            "job_id": job_id,
            "polls": polls,
            "resumed": resumed,
            "mode": inputs.get("mode") or inputs.get("generation_mode"),
        }
        if ignored:
            diagnostics["ignored_options"] = ignored
        return TryOnResult(
            image=image,
            content_type=mime_type,
            engine=self.name,
            engine_version=config.model,
            timings_ms={"remote": (finished - started) * 1000, "total": (finished - started) * 1000},
            diagnostics=diagnostics,
        )

    def inputs(self, request: TryOnRequest) -> tuple[dict[str, object], list[str]]:
        """The ``inputs`` object for the configured model, and the requested options that model cannot honour."""
        config = self.config
        options = request.options
        person = data_url(request.person_image, code=EngineErrorCode.CUSTOMER_IMAGE_INVALID)
        # The models take one garment image; the first one is the product's main photo.
        garment = data_url(request.garment_images[0], code=EngineErrorCode.PRODUCT_IMAGE_INVALID)
        quality_set = "quality" in options.requested
        ignored: list[str] = []
        inputs: dict[str, object]
        if config.model == "tryon-max":
            inputs = {
                "model_image": person,
                "product_image": garment,
                "generation_mode": _MAX_MODES[options.quality] if quality_set else config.mode,
                "num_images": 1,
                "resolution": config.resolution,
            }
            if "garmentPhotoType" in options.requested:
                ignored.append("garmentPhotoType")
            if quality_set and options.quality is Quality.FAST:
                ignored.append("quality")  # no fast mode on tryon-max: balanced is sent
        else:
            inputs = {
                "model_image": person,
                "garment_image": garment,
                "category": _CATEGORIES[Category(request.category)],
                "mode": _V16_MODES[options.quality] if quality_set else config.mode,
                "garment_photo_type": GarmentPhotoType(options.garment_photo_type).value,
                "num_samples": 1,
            }
            if config.moderation_level:
                inputs["moderation_level"] = config.moderation_level
            if config.segmentation_free is not None:
                inputs["segmentation_free"] = config.segmentation_free
        # JPEG: a smaller answer to download and decode; base64 output needs no download from a third-party CDN,
        # and FASHN then keeps no copy of the result.
        inputs["output_format"] = "jpeg"
        inputs["return_base64"] = True
        if options.seed is not None:
            inputs["seed"] = options.seed
        return inputs, ignored

    def _submit(self, session: requests.Session, *, inputs: dict[str, object], deadline: float) -> str:
        config = self.config
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
        self, session: requests.Session, *, job_id: str, deadline: float, resumed: bool
    ) -> tuple[dict[str, object] | None, int]:
        """Poll until the job completes. A resumed job that FASHN no longer has, or that ended without a result,
        gives ``None`` (the caller submits anew); for a fresh job those raise."""
        config = self.config
        url = f"{config.base_url}/v1/status/{job_id}"
        polls = 0
        failures = 0
        first = True
        while True:
            # A resumed job is asked at once: it may have finished while no attempt was watching.
            if not (resumed and first):
                self._sleep(min(self._poll_interval, max(deadline - self._clock(), 0.0)))
            first = False
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
                # "The requested prediction status is no longer tracked": the inputs are fine, a new job may succeed.
                if resumed:
                    return None, polls
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
            if status in _PENDING_STATUSES:
                if self._clock() >= deadline:
                    # Asked one last time at the deadline. The job keeps running at FASHN (there is no cancel
                    # call) and its id is on the generation: the next attempt resumes it.
                    logger.warning("fashn job timed out", extra={"job_id": job_id, "polls": polls})
                    raise EngineError(
                        EngineErrorCode.ENGINE_ERROR,
                        f"FASHN did not finish within {config.timeout_seconds:g} s.",
                        retryable=True,
                    )
                continue
            if resumed:
                # The earlier attempt's job failed or ended; that failure was already handled by that attempt.
                return None, polls
            if status == "failed":
                raise _runtime_error(payload.get("error"))
            if status in _ENDED_STATUSES:
                raise EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN job ended as {status!r}.", retryable=True)
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN reported an unknown status {status!r}.")

    def _call(
        self,
        session: requests.Session,
        method: str,
        url: str,
        *,
        read_timeout: float,
        deadline: float,
        json: Any = None,
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
    if name == "OutOfCredits":
        return EngineError(EngineErrorCode.ENGINE_QUOTA_EXCEEDED, f"The FASHN account has no credits left. ({message})")
    retryable = (status in (408, 429) or status >= 500) and name not in _TERMINAL_API_ERRORS
    retry_after = retry_after_seconds(response.headers.get("Retry-After")) if retryable else None
    return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=retryable, retry_after=retry_after)


# Runtime error names (``error.name`` of a failed job) and what they mean here. The API names which check failed
# but not which image, so an image error is classified by the name alone.
_RUNTIME_ERRORS: dict[str, tuple[EngineErrorCode, str]] = {
    "PoseError": (EngineErrorCode.PERSON_NOT_DETECTED, "FASHN could not detect the body pose"),
    "ImageLoadError": (EngineErrorCode.ENGINE_ERROR, "FASHN could not load an input image"),
    "PhotoTypeError": (EngineErrorCode.PRODUCT_IMAGE_INVALID, "FASHN could not tell what the product photo shows"),
    "ContentModerationError": (EngineErrorCode.CONTENT_REJECTED, "FASHN refused the images"),
    "NSFWError": (EngineErrorCode.CONTENT_REJECTED, "FASHN refused the images"),
    # Third-party processing (captioning) refused the inputs: the same images would be refused again.
    "ThirdPartyError": (EngineErrorCode.CONTENT_REJECTED, "FASHN's third-party processing refused the images"),
    "InputValidationError": (EngineErrorCode.ENGINE_ERROR, "FASHN refused the parameters"),
}


def _runtime_error(error: object) -> EngineError:
    """A job that ran and failed, mapped by FASHN's error name."""
    if isinstance(error, dict):
        name, detail = str(error.get("name", "")), str(error.get("message", ""))
    else:
        name, detail = str(error or ""), ""
    text = f"{name}: {short(detail)}".strip(": ") or "unknown error"
    if name in _RUNTIME_ERRORS:
        code, what = _RUNTIME_ERRORS[name]
        return EngineError(code, f"{what} ({text}).")
    # PipelineError, 3rdPartyProviderError, InternalServerError and names not documented yet: another job may work.
    retryable = name in _RETRYABLE_RUNTIME_ERRORS or bool(name)
    return EngineError(EngineErrorCode.ENGINE_ERROR, f"FASHN failed ({text}).", retryable=retryable)
