"""The cog engine against a local server implementing Cog's documented HTTP prediction API."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator

import pytest

from engines.base import Category, EngineError, EngineErrorCode, EngineOptions, GarmentPhotoType, Quality
from engines.hosted.cog import CogEngine, prediction_id_new
from engines.hosted.presets import PRESETS
from tests.engines.hosted_servers import GARMENT, PERSON, RESULT, CogServer, FromSettings, serve, tryon_request


@pytest.fixture
def cog_server() -> Iterator[CogServer]:
    server = CogServer()
    with serve(server.handler()) as url:
        server.url = url
        yield server


@pytest.fixture
def cog(settings, cog_server) -> FromSettings:
    settings.TRYON_COG_URL = cog_server.url
    settings.TRYON_COG_PRESET = "idm-vton"
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 5
    return FromSettings(CogEngine, "cog", poll_interval=0.01)


def test_prediction_ids_follow_cogs_recommendation():
    first, second = prediction_id_new(), prediction_id_new()
    assert len(first) == 26 and first.islower() and "=" not in first
    assert first != second


def test_cog_checks_health_then_puts_the_idm_vton_inputs(cog, cog_server):
    submitted: list[str] = []
    options = EngineOptions(seed=42, quality=Quality.QUALITY, requested=frozenset({"seed", "quality"}))

    result = cog.run(tryon_request(category=Category.BOTTOMS, options=options, on_job_submitted=submitted.append))

    assert (result.image, result.content_type) == (RESULT, "image/png")
    assert (result.engine, result.engine_version) == ("cog", "cog:idm-vton")
    assert [(r.method, r.path.split("/")[1]) for r in cog_server.seen] == [
        ("GET", "health-check"),
        ("PUT", "predictions"),
    ]
    put = cog_server.seen[1]
    [prediction_id] = submitted
    assert put.path == f"/predictions/{prediction_id}"
    assert "prefer" not in put.headers  # synchronous: the answer is the finished prediction
    assert put.body == {
        "id": prediction_id,
        "input": {
            "crop": False,
            "human_img": "data:image/jpeg;base64," + base64.b64encode(PERSON).decode(),
            "garm_img": "data:image/png;base64," + base64.b64encode(GARMENT).decode(),
            "garment_des": "Blue tee Cotton crew-neck T-shirt",
            "category": "lower_body",
            "steps": 40,
            "seed": 42,
        },
    }
    assert result.diagnostics["licence"] == "CC BY-NC-SA 4.0"
    assert result.diagnostics["prediction_id"] == prediction_id
    assert len(cog_server.runs) == 1


def test_cog_busy_container_409_is_retryable_and_nothing_runs(cog, cog_server):
    cog_server.occupy()
    cog_server.health = "READY"  # BUSY is reported while the other prediction holds the slot

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, True)
    assert error.value.retry_after == 10.0
    assert cog_server.runs == []


def test_cog_409_on_put_is_retryable(cog, cog_server, monkeypatch):
    # The slot is taken between the health check and the PUT.
    original = CogEngine._check_health

    def check_then_lose_the_slot(self, session, *, base):
        original(self, session, base=base)
        cog_server.occupy()

    monkeypatch.setattr(CogEngine, "_check_health", check_then_lose_the_slot)

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert (error.value.code, error.value.retryable, error.value.retry_after) == (
        EngineErrorCode.ENGINE_ERROR,
        True,
        10.0,
    )
    assert "409" in error.value.message
    assert cog_server.runs == []


@pytest.mark.parametrize(
    ("health", "retryable"),
    [("STARTING", True), ("UNHEALTHY", True), ("SETUP_FAILED", False), ("DEFUNCT", False)],
)
def test_cog_health_states(cog, cog_server, health, retryable):
    cog_server.health = health

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, retryable)
    assert [r.method for r in cog_server.seen] == ["GET"]  # no prediction is created


def test_cog_failed_prediction_maps_to_a_terminal_code(cog, cog_server):
    cog_server.fail_with = "CUDA out of memory"

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, False)
    assert "CUDA out of memory" in error.value.message


def test_cog_timeout_cancels_the_prediction(cog, cog_server, settings):
    settings.TRYON_HOSTED_TIMEOUT_SECONDS = 0.5
    cog_server.predict_seconds = 10

    started = time.monotonic()
    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert time.monotonic() - started < 3
    assert (error.value.code, error.value.retryable) == (EngineErrorCode.GENERATION_TIMEOUT, False)
    assert "canceled" in error.value.message
    [put] = [r for r in cog_server.seen if r.method == "PUT"]
    assert len(cog_server.cancels) == 1 and put.path == f"/predictions/{cog_server.cancels[0]}"


def test_cog_resumed_attempt_reattaches_to_the_same_prediction(cog, cog_server):
    """A worker died mid-prediction; the retry PUTs the same id and receives that prediction: it runs once."""
    cog_server.predict_seconds = 0.5
    first = threading.Thread(target=lambda: cog.run(tryon_request(resume_job_id="", on_job_submitted=ids.append)))
    ids: list[str] = []
    first.start()
    while not cog_server.running:
        time.sleep(0.01)

    result = cog.run(tryon_request(resume_job_id=ids[0]))
    first.join()

    assert result.image == RESULT and result.diagnostics["resumed"] is True
    assert len(cog_server.runs) == 1
    assert [r.method for r in cog_server.seen].count("PUT") == 2


def test_cog_input_names_the_model_does_not_take_are_terminal(cog, cog_server, settings):
    settings.TRYON_COG_PRESET = "catvton"

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, False)
    assert "422" in error.value.message and "TRYON_COG_PRESET" in error.value.message


def test_cog_custom_preset_from_settings(cog, cog_server, settings):
    settings.TRYON_COG_PRESET = "custom"
    settings.TRYON_COG_PRESET_JSON = json.dumps(
        {"person_field": "human_img", "garment_field": "garm_img", "seed_field": "seed", "licence": "MIT"}
    )
    options = EngineOptions(
        seed=9, garment_photo_type=GarmentPhotoType.MODEL, requested=frozenset({"seed", "garmentPhotoType"})
    )

    result = cog.run(tryon_request(options=options))

    put = next(r for r in cog_server.seen if r.method == "PUT")
    assert set(put.body["input"]) == {"human_img", "garm_img", "seed"} and put.body["input"]["seed"] == 9
    assert result.diagnostics["licence"] == "MIT"
    assert result.diagnostics["ignored_options"] == ["garmentPhotoType"]


def test_cog_unusable_custom_preset_is_terminal_and_sends_nothing(cog, cog_server, settings):
    settings.TRYON_COG_PRESET = "custom"
    settings.TRYON_COG_PRESET_JSON = '{"garment_field": "g"}'

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert "person_field" in error.value.message
    assert cog_server.seen == []


def test_cog_unreachable_container_is_retryable(cog, settings):
    settings.TRYON_COG_URL = "http://127.0.0.1:9"

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, True)


def test_every_preset_records_a_licence_and_maps_every_category():
    for preset in PRESETS.values():
        assert preset.licence and preset.label
        for category in Category:
            inputs, _ = preset.inputs(tryon_request(category=category))
            assert inputs[preset.person_field].startswith("data:image/jpeg;base64,")
            assert preset.category_field in inputs
    assert PRESETS["idm-vton"].confirmed and PRESETS["leffa"].licence == "MIT"
    assert (
        PRESETS["fashn-vton-1.5"].licence == "Apache-2.0" and "human parser" in PRESETS["fashn-vton-1.5"].licence_note
    )


def test_cog_uploaded_output_url_is_downloaded_through_the_safe_fetcher(cog, cog_server, settings):
    cog_server.upload_outputs = True
    # The safe fetcher refuses private addresses unless the operator allows them.
    settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
    settings.TRYON_FETCH_ALLOWED_PORTS = [int(cog_server.url.rsplit(":", 1)[1])]

    result = cog.run(tryon_request())

    assert result.image == RESULT
    assert [r.path for r in cog_server.seen if r.path.startswith("/uploads/")] == [
        f"/uploads/{result.diagnostics['prediction_id']}.png"
    ]


def test_cog_uploaded_output_on_a_private_address_is_refused_by_default(cog, cog_server):
    cog_server.upload_outputs = True

    with pytest.raises(EngineError) as error:
        cog.run(tryon_request())

    assert error.value.code == EngineErrorCode.ENGINE_ERROR
    assert "could not be downloaded" in error.value.message
