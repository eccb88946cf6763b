"""An open try-on model hosted on Replicate, through Replicate's HTTP API.

- ``POST /v1/models/{owner}/{name}/predictions`` runs a model's current version; ``POST /v1/predictions`` with
  ``{"version": ...}`` pins one. Both take ``{"input": {...}}``, ``Authorization: Bearer <token>`` and
  ``Prefer: wait=N`` (hold the request up to N seconds, 1 to 60, so a fast model answers in one call).
- The answer is a prediction object: ``id``, ``status`` (starting, processing, succeeded, failed, canceled, and
  aborted for one stopped before it ran), ``output``, ``error``, ``urls.get``/``urls.cancel``.
- ``GET /v1/predictions/{id}`` polls it; ``POST /v1/predictions/{id}/cancel`` stops it.
- Errors are problem-details JSON with a ``detail``; 429 adds ``Retry-After`` (and ``retry_after`` in the body).

The prediction id is reported through ``on_job_submitted``; a retried attempt polls that prediction instead of
creating (and paying for) a second one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from engines.base import EngineError, EngineErrorCode, TryOnRequest, TryOnResult
from engines.hosted.common import DEFAULT_TIMEOUT_SECONDS, no_download, output_image, retry_after_seconds, short
from engines.hosted.presets import preset_get

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.replicate.com"
DEFAULT_MODEL = "cuuupid/idm-vton"
DEFAULT_PRESET = "idm-vton"
DEFAULT_WAIT_SECONDS = 30
POLL_INTERVAL_SECONDS = 1.0
_CONNECT_TIMEOUT = 5.0
_READ_TIMEOUT = 15.0
_PENDING = frozenset({"starting", "processing"})
# Stopped without a result for reasons outside the inputs: a new prediction may succeed.
_ENDED = frozenset({"canceled", "aborted"})
_MAX_POLL_FAILURES = 3


@dataclass(frozen=True)
class ReplicateConfig:
    api_token: str = field(default="", repr=False)  # a secret: kept out of reprs and logs
    base_url: str = DEFAULT_BASE_URL
    # "owner/name" runs the model's current version; a version id pins one (then `model` is only a label).
    model: str = DEFAULT_MODEL
    version: str = ""
    preset: str = DEFAULT_PRESET
    custom_preset_json: str = ""
    wait_seconds: int = DEFAULT_WAIT_SECONDS
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    # Replicate serves outputs from its delivery CDN; they are downloaded through the server's safe fetcher.
    fetch_output: Callable[[str], bytes] = no_download


class ReplicateEngine:
    name = "replicate"

    def __init__(
        self,
        config: ReplicateConfig | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = POLL_INTERVAL_SECONDS,
    ) -> None:
        self.config = config or ReplicateConfig()
        self._sleep = sleep
        self._clock = clock
        self._poll_interval = poll_interval

    @property
    def version(self) -> str:
        config = self.config
        return f"{config.model}:{config.version}" if config.version else config.model

    def run(self, request: TryOnRequest) -> TryOnResult:
        config = self.config
        if not config.api_token:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, "The Replicate engine is not configured (TRYON_REPLICATE_API_TOKEN)."
            )
        if not config.version and config.model.count("/") != 1:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR,
                f"TRYON_REPLICATE_MODEL must be 'owner/name' (got {config.model!r}), or set TRYON_REPLICATE_VERSION.",
            )
        preset = preset_get(name=config.preset, custom_json=config.custom_preset_json)
        inputs, ignored = preset.inputs(request)
        started = self._clock()
        deadline = started + config.timeout_seconds
        resumed = False
        polls = 0
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {config.api_token}"
            prediction: dict[str, object] | None = None
            if request.resume_job_id:
                prediction = self._get(session, prediction_id=request.resume_job_id, deadline=deadline)
                if prediction is not None and prediction.get("status") not in (_PENDING | {"succeeded"}):
                    # The earlier attempt's prediction failed or was stopped; that attempt already dealt with it.
                    prediction = None
                resumed = prediction is not None
            if prediction is None:
                prediction = self._create(session, inputs=inputs, deadline=deadline)
                if request.on_job_submitted is not None:
                    request.on_job_submitted(str(prediction["id"]))
            prediction_id = str(prediction["id"])
            while prediction.get("status") in _PENDING:
                if self._clock() >= deadline:
                    raise self._cancel(session, prediction_id=prediction_id)
                self._sleep(min(self._poll_interval, max(deadline - self._clock(), 0.0)))
                polls += 1
                polled = self._get(session, prediction_id=prediction_id, deadline=deadline)
                if polled is None:
                    raise EngineError(EngineErrorCode.ENGINE_ERROR, "Replicate lost the prediction.", retryable=True)
                prediction = polled
        status = prediction.get("status")
        if status == "failed":
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, f"The Replicate model failed: {short(str(prediction.get('error')))}"
            )
        if status in _ENDED:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"The Replicate prediction was {status}.", retryable=True)
        if status != "succeeded":
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Replicate reported status {status!r}.", retryable=True)
        image, mime_type = output_image(prediction.get("output"), fetch=config.fetch_output, provider="Replicate")
        finished = self._clock()
        reported = prediction.get("metrics")
        metrics = reported if isinstance(reported, dict) else {}
        diagnostics: dict[str, object] = {
            "model": self.version,
            "preset": preset.name,
            "licence": preset.licence,
            "prediction_id": prediction_id,
            "resumed": resumed,
            "polls": polls,
            "predict_time": metrics.get("predict_time"),
        }
        if ignored:
            diagnostics["ignored_options"] = ignored
        logger.info("replicate try-on done", extra={"polls": polls, "resumed": resumed})
        return TryOnResult(
            image=image,
            content_type=mime_type,
            engine=self.name,
            engine_version=self.version,
            timings_ms={"remote": (finished - started) * 1000, "total": (finished - started) * 1000},
            diagnostics=diagnostics,
        )

    def _create(self, session: requests.Session, *, inputs: dict[str, object], deadline: float) -> dict[str, object]:
        config = self.config
        base = config.base_url.rstrip("/")
        if config.version:
            url, body = f"{base}/v1/predictions", {"version": config.version, "input": inputs}
        else:
            url, body = f"{base}/v1/models/{config.model}/predictions", {"input": inputs}
        wait = max(1, min(int(config.wait_seconds), 60, int(max(deadline - self._clock(), 1))))
        response = self._call(
            session,
            "POST",
            url,
            json=body,
            headers={"Prefer": f"wait={wait}"},
            read_timeout=wait + _READ_TIMEOUT,
            deadline=deadline,
        )
        if response.status_code not in (200, 201, 202):
            raise _http_error(response, model=config.model)
        prediction = _json(response)
        if not isinstance(prediction.get("id"), str) or not prediction["id"]:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, "Replicate created a prediction without an id.", retryable=True
            )
        return prediction

    def _get(self, session: requests.Session, *, prediction_id: str, deadline: float) -> dict[str, object] | None:
        """The prediction's current state; None when Replicate does not know it (404)."""
        url = f"{self.config.base_url.rstrip('/')}/v1/predictions/{prediction_id}"
        failures = 0
        while True:
            try:
                response = self._call(session, "GET", url, read_timeout=_READ_TIMEOUT, deadline=deadline)
            except EngineError as exc:
                failures += 1
                if not exc.retryable or failures >= _MAX_POLL_FAILURES or self._clock() >= deadline:
                    raise
                continue
            if response.status_code == 404:
                return None
            if response.status_code == 200:
                return _json(response)
            error = _http_error(response, model=self.config.model)
            failures += 1
            if not error.retryable or failures >= _MAX_POLL_FAILURES or self._clock() >= deadline:
                raise error
            self._sleep(min(error.retry_after or self._poll_interval, max(deadline - self._clock(), 0.0)))

    def _cancel(self, session: requests.Session, *, prediction_id: str) -> EngineError:
        """Stop the prediction (it would keep billing GPU time); the error to fail the attempt with."""
        url = f"{self.config.base_url.rstrip('/')}/v1/predictions/{prediction_id}/cancel"
        try:
            canceled = session.post(url, timeout=(_CONNECT_TIMEOUT, _READ_TIMEOUT)).status_code == 200
        except requests.RequestException:
            canceled = False
        logger.warning("replicate prediction timed out", extra={"canceled": canceled})
        return EngineError(
            EngineErrorCode.GENERATION_TIMEOUT,
            f"The Replicate model did not finish within {self.config.timeout_seconds:g} s "
            f"(TRYON_HOSTED_TIMEOUT_SECONDS); the prediction was {'canceled' if canceled else 'abandoned'}.",
        )

    def _call(
        self,
        session: requests.Session,
        method: str,
        url: str,
        *,
        read_timeout: float,
        deadline: float,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        remaining = max(deadline - self._clock(), 0.1)
        timeout = (min(_CONNECT_TIMEOUT, remaining), min(read_timeout, remaining))
        try:
            return session.request(method, url, json=json, headers=headers, timeout=timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            kind = "timed out" if isinstance(exc, requests.Timeout) else "failed to connect"
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Replicate request {kind}.", retryable=True) from exc
        except requests.RequestException as exc:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, f"Replicate request failed ({type(exc).__name__})."
            ) from exc


def _json(response: requests.Response) -> dict[str, object]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise EngineError(
            EngineErrorCode.ENGINE_ERROR, "Replicate answered with invalid JSON.", retryable=True
        ) from exc
    if not isinstance(payload, dict):
        raise EngineError(EngineErrorCode.ENGINE_ERROR, "Replicate answered with unexpected JSON.", retryable=True)
    return payload


def _http_error(response: requests.Response, *, model: str) -> EngineError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    detail = short(str(body.get("detail") or body.get("title") or ""))
    message = f"Replicate answered HTTP {status}: {detail}".rstrip(": ")
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is None and isinstance(body.get("retry_after"), int | float):
            retry_after = float(body["retry_after"])
        return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=True, retry_after=retry_after)
    if status == 402:
        return EngineError(
            EngineErrorCode.ENGINE_QUOTA_EXCEEDED, f"The Replicate account cannot pay for runs. ({message})"
        )
    if status in (401, 403):
        return EngineError(EngineErrorCode.ENGINE_ERROR, f"Replicate rejected the API token. ({message})")
    if status == 404:
        return EngineError(
            EngineErrorCode.ENGINE_ERROR,
            f"Replicate has no model {model!r} (check TRYON_REPLICATE_MODEL / TRYON_REPLICATE_VERSION). ({message})",
        )
    if status == 422:
        return EngineError(EngineErrorCode.ENGINE_ERROR, f"{message} (check TRYON_REPLICATE_PRESET for this model)")
    retryable = status >= 500 or status == 408
    return EngineError(
        EngineErrorCode.ENGINE_ERROR,
        message,
        retryable=retryable,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")) if retryable else None,
    )
