"""FASHN adapter against FASHN's documented wire format (``/v1/run``, ``/v1/status/{id}``), replayed with
``responses``: every status, every documented error name, both models' fields, and resuming a job."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import requests
import responses

from engines.base import Category, EngineError, EngineErrorCode, EngineOptions, GarmentPhotoType, Quality
from engines.hosted.fashn import FashnEngine
from tests.engines.hosted_servers import GARMENT, PERSON, RESULT, RESULT_B64, FromSettings, tryon_request

ENGINE_ERROR = EngineErrorCode.ENGINE_ERROR


def _expect(error: pytest.ExceptionInfo[EngineError], code: EngineErrorCode, *, retryable: bool) -> None:
    assert (error.value.code, error.value.retryable) == (code, retryable)


# --- FASHN -------------------------------------------------------------------------------------------------


FASHN = "https://fashn.test"
RUN_URL = f"{FASHN}/v1/run"
STATUS_URL = f"{FASHN}/v1/status/pred-123"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fashn(settings, clock) -> FromSettings:
    settings.TRYON_FASHN_API_KEY = "fa-secret-key"
    settings.TRYON_FASHN_BASE_URL = FASHN + "/"
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 60
    return FromSettings(FashnEngine, "fashn", sleep=clock.sleep, clock=clock, poll_interval=2.0)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _status(status: str, **extra: object) -> dict[str, object]:
    return {"id": "pred-123", "status": status, "error": None, "output": None, **extra}


def test_fashn_polls_until_completed_and_returns_the_base64_output(fashn, rsps, clock):
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    for state in ("starting", "in_queue", "processing"):
        rsps.get(STATUS_URL, json=_status(state))
    rsps.get(STATUS_URL, json=_status("completed", output=[f"data:image/png;base64,{RESULT_B64}"]))

    result = fashn.run(tryon_request(category=Category.DRESSES))

    assert (result.image, result.content_type) == (RESULT, "image/png")
    assert (result.engine, result.engine_version) == ("fashn", "tryon-v1.6")
    assert result.diagnostics == {
        "model": "tryon-v1.6",
        "job_id": "pred-123",
        "polls": 4,
        "resumed": False,
        "mode": "balanced",
    }
    assert clock.sleeps == [2.0, 2.0, 2.0, 2.0]
    run_call = rsps.calls[0].request
    assert run_call.headers["Authorization"] == "Bearer fa-secret-key"
    body = json.loads(run_call.body)
    assert body["model_name"] == "tryon-v1.6"
    inputs = body["inputs"]
    assert inputs["model_image"] == "data:image/jpeg;base64," + base64.b64encode(PERSON).decode()
    assert inputs["garment_image"] == "data:image/png;base64," + base64.b64encode(GARMENT).decode()
    assert inputs == {
        "model_image": inputs["model_image"],
        "garment_image": inputs["garment_image"],
        "category": "one-pieces",
        "mode": "balanced",
        "garment_photo_type": "auto",
        "num_samples": 1,
        "output_format": "jpeg",
        "return_base64": True,
        "seed": 7,
    }
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "GET", "GET", "GET"]


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        ({"name": "PoseError", "message": "Unable to detect body pose in model image."}, "PERSON_NOT_DETECTED", False),
        # Classified by the error's name alone: the same name with either image in the message maps the same.
        ({"name": "ImageLoadError", "message": "Error loading model image: bad data"}, "ENGINE_ERROR", False),
        ({"name": "ImageLoadError", "message": "Error loading garment image"}, "ENGINE_ERROR", False),
        ({"name": "PhotoTypeError", "message": "Could not detect garment photo type"}, "PRODUCT_IMAGE_INVALID", False),
        ({"name": "ThirdPartyError", "message": "Captioning refused the input"}, "CONTENT_REJECTED", False),
        ({"name": "3rdPartyProviderError", "message": "Upstream failed"}, "ENGINE_ERROR", True),
        ({"name": "InternalServerError", "message": "Unexpected"}, "ENGINE_ERROR", True),
        ({"name": "InputValidationError", "message": "bad parameters"}, "ENGINE_ERROR", False),
        ({"name": "ContentModerationError", "message": "Prohibited content detected."}, "CONTENT_REJECTED", False),
        ({"name": "PipelineError", "message": "Unexpected error."}, "ENGINE_ERROR", True),
    ],
)
def test_fashn_failed_status_is_mapped_by_error_name(fashn, rsps, error, code, retryable):
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=_status("processing"))
    rsps.get(STATUS_URL, json=_status("failed", error=error))

    with pytest.raises(EngineError) as raised:
        fashn.run(tryon_request())

    _expect(raised, EngineErrorCode(code), retryable=retryable)


@pytest.mark.parametrize(
    ("status", "name", "retryable"),
    [
        (429, "RateLimitExceeded", True),
        (429, "ConcurrencyLimitExceeded", True),
        (500, "InternalServerError", True),
        (503, "", True),
        (429, "OutOfCredits", False),  # ENGINE_QUOTA_EXCEEDED, asserted below
        (400, "BadRequest", False),
        (401, "UnauthorizedAccess", False),
        (403, "Forbidden", False),
    ],
)
def test_fashn_http_errors_on_submit(fashn, rsps, status, name, retryable):
    rsps.post(RUN_URL, status=status, json={"error": name, "message": "recorded message"})

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request())

    expected = EngineErrorCode.ENGINE_QUOTA_EXCEEDED if name == "OutOfCredits" else ENGINE_ERROR
    _expect(error, expected, retryable=retryable)
    assert "fa-secret-key" not in error.value.message
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    "exc", [requests.exceptions.ReadTimeout("read timed out"), requests.exceptions.ConnectionError("refused")]
)
def test_fashn_timeouts_and_connection_errors_are_retryable(fashn, rsps, exc):
    rsps.post(RUN_URL, body=exc)

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request())

    _expect(error, ENGINE_ERROR, retryable=True)


def test_fashn_gives_up_at_the_deadline(fashn, rsps, clock, settings):
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 9
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=_status("processing"))

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request())

    _expect(error, ENGINE_ERROR, retryable=True)
    assert "9 s" in error.value.message
    assert sum(clock.sleeps) == 9
    assert len(rsps.calls) == 1 + 5  # polls at 2, 4, 6, 8 s and a last one at the 9 s deadline


def test_fashn_rides_out_a_transient_status_error(fashn, rsps):
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, status=503, json={"error": "ServiceUnavailable", "message": "try later"})
    rsps.get(STATUS_URL, json=_status("completed", output=[f"data:image/png;base64,{RESULT_B64}"]))

    assert fashn.run(tryon_request()).image == RESULT


def test_fashn_url_output_is_downloaded_through_the_safe_fetcher(fashn, rsps, monkeypatch):
    from tryon_project import http_fetch

    fetched: list[str] = []

    def fake_fetch(*, url: str, **kwargs: object) -> http_fetch.FetchResult:
        fetched.append(url)
        return http_fetch.FetchResult(200, RESULT, "image/png", url, 1.0)

    monkeypatch.setattr(http_fetch, "url_fetch", fake_fetch)
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=_status("completed", output=["https://cdn.fashn.test/out.png"]))

    assert fashn.run(tryon_request()).image == RESULT
    assert fetched == ["https://cdn.fashn.test/out.png"]


def test_fashn_without_key_is_not_configured(fashn, rsps, settings):
    settings.TRYON_FASHN_API_KEY = ""

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request())

    _expect(error, ENGINE_ERROR, retryable=False)
    assert "not configured" in error.value.message
    assert len(rsps.calls) == 0


DONE = _status("completed", output=[f"data:image/jpeg;base64,{base64.b64encode(RESULT).decode()}"])


def test_fashn_attempt_that_times_out_is_resumed_not_submitted_again(fashn, rsps, clock, settings):
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 4
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=_status("processing"))
    submitted: list[str] = []

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request(on_job_submitted=submitted.append))

    _expect(error, ENGINE_ERROR, retryable=True)
    assert submitted == ["pred-123"]
    # The next attempt is given the job id: it polls the same job and never posts to /v1/run again.
    rsps.replace(responses.GET, STATUS_URL, json=DONE)
    again: list[str] = []
    result = fashn.run(tryon_request(resume_job_id="pred-123", on_job_submitted=again.append))

    assert result.image == RESULT
    assert result.diagnostics["resumed"] is True and result.diagnostics["job_id"] == "pred-123"
    assert again == []
    assert [c.request.method for c in rsps.calls].count("POST") == 1  # one submission, one charge


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "json": {"error": "NotFound", "message": "Prediction status is no longer tracked"}},
        {"json": _status("canceled")},
        {"json": _status("time_out")},
        {"json": _status("failed", error={"name": "PipelineError", "message": "Unexpected error."})},
    ],
    ids=["404", "canceled", "time_out", "failed"],
)
def test_fashn_resumed_job_that_is_gone_or_ended_is_submitted_once_anew(fashn, rsps, answer):
    rsps.get(f"{FASHN}/v1/status/old-job", **answer)
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=DONE)
    submitted: list[str] = []

    result = fashn.run(tryon_request(resume_job_id="old-job", on_job_submitted=submitted.append))

    assert result.image == RESULT
    assert submitted == ["pred-123"]
    assert result.diagnostics["resumed"] is False
    assert [c.request.method for c in rsps.calls] == ["GET", "POST", "GET"]


@pytest.mark.parametrize("status", ["canceled", "time_out"])
def test_fashn_job_ended_on_fashns_side_is_retryable(fashn, rsps, status):
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=_status(status))

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request())

    _expect(error, ENGINE_ERROR, retryable=True)
    assert status in error.value.message


def test_fashn_status_404_on_a_fresh_job_is_retryable(fashn, rsps):
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, status=404, json={"error": "NotFound", "message": "Prediction not found"})

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request())

    _expect(error, ENGINE_ERROR, retryable=True)


def test_fashn_rate_limit_uses_retry_after(fashn, rsps):
    rsps.post(
        RUN_URL,
        status=429,
        json={"error": "RateLimitExceeded", "message": "Too many requests"},
        headers={"Retry-After": "7"},
    )

    with pytest.raises(EngineError) as error:
        fashn.run(tryon_request())

    _expect(error, ENGINE_ERROR, retryable=True)
    assert error.value.retry_after == 7.0


def test_fashn_v16_options_and_settings(fashn, rsps, settings):
    settings.TRYON_FASHN_MODERATION_LEVEL = "conservative"
    settings.TRYON_FASHN_SEGMENTATION_FREE = False
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=DONE)
    options = EngineOptions(
        seed=11, quality=Quality.FAST, garment_photo_type=GarmentPhotoType.FLAT_LAY,
        requested=frozenset({"seed", "quality", "garmentPhotoType"}),
    )  # fmt: skip

    result = fashn.run(tryon_request(options=options))

    inputs = json.loads(rsps.calls[0].request.body)["inputs"]
    assert {k: inputs[k] for k in ("mode", "garment_photo_type", "moderation_level", "segmentation_free", "seed")} == {
        "mode": "performance",
        "garment_photo_type": "flat-lay",
        "moderation_level": "conservative",
        "segmentation_free": False,
        "seed": 11,
    }
    assert "ignored_options" not in result.diagnostics


def test_fashn_tryon_max_sends_its_own_fields(fashn, rsps, settings):
    settings.TRYON_FASHN_MODEL = "tryon-max"
    settings.TRYON_FASHN_RESOLUTION = "2k"
    rsps.post(RUN_URL, json={"id": "pred-123", "error": None})
    rsps.get(STATUS_URL, json=DONE)
    options = EngineOptions(
        seed=5, quality=Quality.QUALITY, garment_photo_type=GarmentPhotoType.MODEL,
        requested=frozenset({"seed", "quality", "garmentPhotoType"}),
    )  # fmt: skip

    result = fashn.run(tryon_request(options=options))

    body = json.loads(rsps.calls[0].request.body)
    assert body["model_name"] == "tryon-max"
    inputs = body["inputs"]
    assert inputs == {
        "model_image": "data:image/jpeg;base64," + base64.b64encode(PERSON).decode(),
        "product_image": "data:image/png;base64," + base64.b64encode(GARMENT).decode(),
        "generation_mode": "quality",
        "num_images": 1,
        "resolution": "2k",
        "output_format": "jpeg",
        "return_base64": True,
        "seed": 5,
    }
    assert result.diagnostics["ignored_options"] == ["garmentPhotoType"]
    assert result.engine_version == "tryon-max"
