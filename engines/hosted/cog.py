"""A self-hosted open try-on model in a Cog container, spoken to through Cog's HTTP prediction API.

The operator runs the model on their own GPU (``docker run --gpus all -p 5000:5000 <image>``) and points
``TRYON_COG_URL`` at it. The protocol, as Cog documents it:

- ``GET /health-check`` always answers 200; its ``status`` is READY, BUSY, STARTING, SETUP_FAILED, DEFUNCT or
  UNHEALTHY.
- ``PUT /predictions/{id}`` with ``{"input": {...}}`` creates a prediction *idempotently*: the same id while it
  is still running creates nothing new. Without ``Prefer: respond-async`` the answer is the finished prediction
  (``status`` succeeded/failed/canceled, ``output``, ``error``, ``metrics``). When every slot is taken by another
  prediction the answer is 409.
- ``POST /predictions/{id}/cancel`` stops a prediction (404 when there is none with that id).
- File outputs come back as ``data:`` URLs, or as URLs when the container uploads them.

The generation's id for the prediction is reported through ``on_job_submitted`` and passed back on the next
attempt, so a retried attempt re-attaches to the same prediction instead of starting a second one.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from engines.base import EngineError, EngineErrorCode, TryOnRequest, TryOnResult
from engines.hosted.common import DEFAULT_TIMEOUT_SECONDS, no_download, output_image, retry_after_seconds, short
from engines.hosted.presets import preset_get

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:5000"
DEFAULT_PRESET = "idm-vton"
_CONNECT_TIMEOUT = 5.0
_HEALTH_TIMEOUT = 5.0
# A container that is busy or still loading its weights is asked again after this long.
BUSY_RETRY_SECONDS = 10.0
STARTING_RETRY_SECONDS = 30.0
POLL_INTERVAL_SECONDS = 1.0

_HEALTH_RETRYABLE = {
    "BUSY": ("is busy with another prediction", BUSY_RETRY_SECONDS),
    "STARTING": ("is still starting (setup() is running)", STARTING_RETRY_SECONDS),
    "UNHEALTHY": ("reports itself unhealthy", BUSY_RETRY_SECONDS),
}
_HEALTH_TERMINAL = {
    "SETUP_FAILED": "failed its setup(); see the container's logs",
    "DEFUNCT": "hit an unrecoverable error and must be restarted",
}


def prediction_id_new() -> str:
    # Cog's recommendation: a UUIDv4, base32-encoded, lower case, without padding (26 characters).
    return base64.b32encode(uuid.uuid4().bytes).decode("ascii").lower().rstrip("=")


@dataclass(frozen=True)
class CogConfig:
    url: str = DEFAULT_URL
    preset: str = DEFAULT_PRESET
    # The custom preset's JSON, used when `preset` is "custom".
    custom_preset_json: str = ""
    # Sent as a bearer token when the container sits behind an authenticating proxy; Cog itself has no auth.
    auth_token: str = field(default="", repr=False)  # a secret: kept out of reprs and logs
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    fetch_output: Callable[[str], bytes] = no_download


class CogEngine:
    """Runs one prediction per try-on on an operator's Cog container."""

    name = "cog"

    def __init__(
        self,
        config: CogConfig | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = POLL_INTERVAL_SECONDS,
    ) -> None:
        self.config = config or CogConfig()
        self._sleep = sleep
        self._clock = clock
        self._poll_interval = poll_interval

    @property
    def version(self) -> str:
        return f"cog:{self.config.preset}"

    def run(self, request: TryOnRequest) -> TryOnResult:
        config = self.config
        if not config.url:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, "The Cog engine is not configured (TRYON_COG_URL).")
        preset = preset_get(name=config.preset, custom_json=config.custom_preset_json)
        inputs, ignored = preset.inputs(request)
        started = self._clock()
        deadline = started + config.timeout_seconds
        base = config.url.rstrip("/")
        prediction_id = request.resume_job_id or prediction_id_new()
        with requests.Session() as session:
            if config.auth_token:
                session.headers["Authorization"] = f"Bearer {config.auth_token}"
            if not request.resume_job_id:
                # A resumed prediction may be what keeps the container BUSY, so only a new one checks first.
                self._check_health(session, base=base)
            if request.on_job_submitted is not None:
                # Reported before the call: if this worker dies mid-prediction, the next attempt re-attaches.
                request.on_job_submitted(prediction_id)
            payload, calls = self._predict(
                session, base=base, prediction_id=prediction_id, inputs=inputs, deadline=deadline
            )
        status = payload.get("status")
        if status == "failed":
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"The Cog model failed: {short(str(payload.get('error')))}")
        if status == "canceled":
            raise EngineError(EngineErrorCode.ENGINE_ERROR, "The Cog prediction was canceled.", retryable=True)
        if status != "succeeded":
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Cog answered with status {status!r}.", retryable=True)
        image, mime_type = output_image(payload.get("output"), fetch=config.fetch_output, provider="The Cog model")
        finished = self._clock()
        reported = payload.get("metrics")
        metrics = reported if isinstance(reported, dict) else {}
        diagnostics: dict[str, object] = {
            "preset": preset.name,
            "licence": preset.licence,
            "prediction_id": prediction_id,
            "resumed": bool(request.resume_job_id),
            "calls": calls,
            "predict_time": metrics.get("predict_time"),
        }
        if ignored:
            diagnostics["ignored_options"] = ignored
        logger.info("cog try-on done", extra={"preset": preset.name, "calls": calls})
        return TryOnResult(
            image=image,
            content_type=mime_type,
            engine=self.name,
            engine_version=f"cog:{preset.name}",
            timings_ms={"remote": (finished - started) * 1000, "total": (finished - started) * 1000},
            diagnostics=diagnostics,
        )

    def _check_health(self, session: requests.Session, *, base: str) -> None:
        try:
            response = session.get(f"{base}/health-check", timeout=(_CONNECT_TIMEOUT, _HEALTH_TIMEOUT))
        except requests.RequestException as exc:
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, "The Cog container is not reachable.", retryable=True
            ) from exc
        status = _json(response).get("status") if response.status_code == 200 else None
        if status == "READY":
            return
        if status in _HEALTH_RETRYABLE:
            what, delay = _HEALTH_RETRYABLE[status]
            raise EngineError(
                EngineErrorCode.ENGINE_ERROR, f"The Cog container {what}.", retryable=True, retry_after=delay
            )
        if status in _HEALTH_TERMINAL:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"The Cog container {_HEALTH_TERMINAL[status]}.")
        raise EngineError(
            EngineErrorCode.ENGINE_ERROR,
            f"The Cog health check answered HTTP {response.status_code} with status {status!r}.",
            retryable=True,
        )

    def _predict(
        self,
        session: requests.Session,
        *,
        base: str,
        prediction_id: str,
        inputs: dict[str, object],
        deadline: float,
    ) -> tuple[dict[str, object], int]:
        """PUT the prediction until it is finished: 200 is the final state; 202 means a prediction with this id
        is still running (a resumed attempt), so the same idempotent PUT is sent again after a pause."""
        url = f"{base}/predictions/{prediction_id}"
        body: dict[str, Any] = {"id": prediction_id, "input": inputs}
        calls = 0
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise self._cancel(session, base=base, prediction_id=prediction_id)
            calls += 1
            try:
                response = session.put(url, json=body, timeout=(min(_CONNECT_TIMEOUT, remaining), remaining))
            except requests.Timeout as exc:
                raise self._cancel(session, base=base, prediction_id=prediction_id) from exc
            except requests.RequestException as exc:
                raise EngineError(
                    EngineErrorCode.ENGINE_ERROR, "The Cog container is not reachable.", retryable=True
                ) from exc
            if response.status_code == 200:
                return _json(response), calls
            if response.status_code == 202:
                self._sleep(min(self._poll_interval, max(deadline - self._clock(), 0.0)))
                continue
            raise _http_error(response)

    def _cancel(self, session: requests.Session, *, base: str, prediction_id: str) -> EngineError:
        """Stop the prediction so the GPU is free for the next one; the error to fail the attempt with."""
        try:
            response = session.post(
                f"{base}/predictions/{prediction_id}/cancel", timeout=(_CONNECT_TIMEOUT, _HEALTH_TIMEOUT)
            )
            canceled = response.status_code == 200
        except requests.RequestException:
            canceled = False
        logger.warning("cog prediction timed out", extra={"canceled": canceled})
        return EngineError(
            EngineErrorCode.GENERATION_TIMEOUT,
            f"The Cog model did not finish within {self.config.timeout_seconds:g} s "
            f"(TRYON_HOSTED_TIMEOUT_SECONDS); the prediction was {'canceled' if canceled else 'abandoned'}.",
        )


def _json(response: requests.Response) -> dict[str, object]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise EngineError(EngineErrorCode.ENGINE_ERROR, "Cog answered with invalid JSON.", retryable=True) from exc
    if not isinstance(payload, dict):
        raise EngineError(EngineErrorCode.ENGINE_ERROR, "Cog answered with unexpected JSON.", retryable=True)
    return payload


def _http_error(response: requests.Response) -> EngineError:
    status = response.status_code
    try:
        detail = short(str(response.json().get("detail", "")))
    except (ValueError, AttributeError):
        detail = short(response.text or "")
    message = f"The Cog container answered HTTP {status}: {detail}".rstrip(": ")
    if status == 409:
        # Every prediction slot is in use by another prediction: ask again once it may have finished.
        retry_after = retry_after_seconds(response.headers.get("Retry-After")) or BUSY_RETRY_SECONDS
        return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=True, retry_after=retry_after)
    if status == 422:
        # The inputs do not match the model's predict() signature: the preset is wrong for this container.
        return EngineError(EngineErrorCode.ENGINE_ERROR, f"{message} (check TRYON_COG_PRESET for this model)")
    return EngineError(EngineErrorCode.ENGINE_ERROR, message, retryable=status >= 500 or status in (408, 429))
