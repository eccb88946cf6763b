"""The replicate engine against a local server implementing Replicate's HTTP API."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from engines.base import EngineError, EngineErrorCode, EngineOptions
from engines.hosted.replicate import ReplicateEngine
from tests.engines.hosted_servers import PERSON, RESULT, FromSettings, ReplicateServer, serve, tryon_request


@pytest.fixture
def replicate_server(settings) -> Iterator[ReplicateServer]:
    server = ReplicateServer()
    with serve(server.handler()) as url:
        server.url = url
        # Output files are downloaded through the safe fetcher, which must be told this local server is allowed.
        settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
        settings.TRYON_FETCH_ALLOWED_PORTS = [int(url.rsplit(":", 1)[1])]
        yield server


@pytest.fixture
def replicate(settings, replicate_server) -> FromSettings:
    settings.TRYON_REPLICATE_API_TOKEN = replicate_server.token
    settings.TRYON_REPLICATE_BASE_URL = replicate_server.url
    settings.TRYON_REPLICATE_MODEL = "cuuupid/idm-vton"
    settings.TRYON_REPLICATE_PRESET = "idm-vton"
    settings.TRYON_REPLICATE_WAIT_SECONDS = 1
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 5
    return FromSettings(ReplicateEngine, "replicate", poll_interval=0.01)


def _calls(server: ReplicateServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.seen if not r.path.startswith("/delivery/")]


def test_replicate_model_endpoint_with_prefer_wait(replicate, replicate_server):
    submitted: list[str] = []

    result = replicate.run(
        tryon_request(options=EngineOptions(seed=3, requested=frozenset({"seed"})), on_job_submitted=submitted.append)
    )

    assert (result.image, result.content_type) == (RESULT, "image/png")
    [create] = [r for r in replicate_server.seen if r.method == "POST"]
    assert create.path == "/v1/models/cuuupid/idm-vton/predictions"
    assert create.headers["authorization"] == "Bearer r8_test_token"
    assert create.headers["prefer"] == "wait=1"
    assert create.body["input"]["human_img"] == "data:image/jpeg;base64," + base64.b64encode(PERSON).decode()
    assert create.body["input"]["seed"] == 3
    assert submitted == [result.diagnostics["prediction_id"]]
    assert result.diagnostics["licence"] == "CC BY-NC-SA 4.0"
    assert "r8_test_token" not in repr(result.diagnostics)


def test_replicate_pinned_version_and_polling(replicate, replicate_server, settings):
    settings.TRYON_REPLICATE_VERSION = "906425dbca90663ff5427624839572cc56ea7d380343d13e2a4c4b09d3f0c30f"
    replicate_server.run_seconds = 1.5  # longer than Prefer: wait=1, so the engine polls

    result = replicate.run(tryon_request())

    calls = _calls(replicate_server)
    assert calls[0] == ("POST", "/v1/predictions")
    assert replicate_server.seen[0].body["version"] == settings.TRYON_REPLICATE_VERSION
    prediction_id = result.diagnostics["prediction_id"]
    assert set(calls[1:]) == {("GET", f"/v1/predictions/{prediction_id}")}
    assert result.diagnostics["polls"] >= 1
    assert result.engine_version == f"cuuupid/idm-vton:{settings.TRYON_REPLICATE_VERSION}"


def test_replicate_failed_prediction_maps_to_a_terminal_code(replicate, replicate_server):
    replicate_server.fail_with = "CUDA out of memory. Tried to allocate 2.00 GiB"

    with pytest.raises(EngineError) as error:
        replicate.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, False)
    assert "CUDA out of memory" in error.value.message


def test_replicate_timeout_cancels_the_prediction(replicate, replicate_server, settings):
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 1.2
    replicate_server.run_seconds = 30

    with pytest.raises(EngineError) as error:
        replicate.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.GENERATION_TIMEOUT, False)
    [prediction] = replicate_server.predictions.values()
    assert ("POST", f"/v1/predictions/{prediction.id}/cancel") in _calls(replicate_server)
    assert prediction.status == "canceled"


def test_replicate_429_is_retried_after_its_retry_after(replicate, replicate_server):
    replicate_server.refusals.append(
        (
            429,
            {
                "detail": "Request was throttled. Your rate limit for creating predictions is reduced to 6 requests "
                "per minute with a burst of 1 requests while you have less than $5.0 in credit. Your rate limit "
                "resets in ~5s.",
                "status": 429,
                "retry_after": 5,
            },
            {},
        )
    )

    with pytest.raises(EngineError) as error:
        replicate.run(tryon_request())

    assert (error.value.code, error.value.retryable, error.value.retry_after) == (
        EngineErrorCode.ENGINE_ERROR,
        True,
        5.0,
    )
    assert "throttled" in error.value.message
    assert replicate_server.predictions == {}


def test_replicate_retry_after_header_wins(replicate, replicate_server):
    replicate_server.refusals.append((429, {"detail": "Request was throttled.", "status": 429}, {"Retry-After": "12"}))

    with pytest.raises(EngineError) as error:
        replicate.run(tryon_request())

    assert error.value.retry_after == 12.0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, EngineErrorCode.ENGINE_ERROR),
        (402, EngineErrorCode.ENGINE_QUOTA_EXCEEDED),
        (404, EngineErrorCode.ENGINE_ERROR),
        (422, EngineErrorCode.ENGINE_ERROR),
    ],
)
def test_replicate_terminal_http_errors(replicate, replicate_server, status, code):
    replicate_server.refusals.append((status, {"title": "Refused", "detail": "recorded detail", "status": status}, {}))

    with pytest.raises(EngineError) as error:
        replicate.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (code, False)
    assert "r8_test_token" not in error.value.message


def test_replicate_wrong_token_is_terminal(replicate, settings):
    settings.TRYON_REPLICATE_API_TOKEN = "r8_wrong"

    with pytest.raises(EngineError) as error:
        replicate.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, False)
    assert "token" in error.value.message


def test_replicate_resumed_attempt_polls_the_same_prediction(replicate, replicate_server, settings):
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 1.2
    replicate_server.run_seconds = 2.0
    ids: list[str] = []
    with pytest.raises(EngineError):
        replicate.run(tryon_request(on_job_submitted=ids.append))
    # That attempt canceled its prediction on timeout; a resumed attempt finds it ended and creates one anew.
    replicate_server.run_seconds = 0.05
    again: list[str] = []
    result = replicate.run(tryon_request(resume_job_id=ids[0], on_job_submitted=again.append))
    assert result.diagnostics["resumed"] is False and len(again) == 1

    # A prediction still running (the worker died, nothing canceled it) is polled, not created again.
    replicate_server.run_seconds = 0.5
    before = len(replicate_server.predictions)
    prediction = _create_running(replicate_server)
    result = replicate.run(tryon_request(resume_job_id=prediction, on_job_submitted=again.append))
    assert result.diagnostics["resumed"] is True and result.diagnostics["prediction_id"] == prediction
    assert len(replicate_server.predictions) == before + 1  # only the one created above
    assert len(again) == 1


def _create_running(server: ReplicateServer) -> str:
    import requests

    response = requests.post(
        f"{server.url}/v1/models/cuuupid/idm-vton/predictions",
        json={"input": {"human_img": "x", "garm_img": "y"}},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=5,
    )
    assert response.status_code == 201 and response.json()["status"] == "starting"
    return response.json()["id"]


def test_replicate_without_token_is_not_configured(replicate, replicate_server, settings):
    settings.TRYON_REPLICATE_API_TOKEN = ""

    with pytest.raises(EngineError) as error:
        replicate.run(tryon_request())

    assert "TRYON_REPLICATE_API_TOKEN" in error.value.message
    assert replicate_server.seen == []
