from __future__ import annotations

import threading

import pytest

from engines.base import EngineError, EngineErrorCode, TryOnRequest
from engines.local import LocalEngine
from engines.mock import MockEngine
from generations.engine_config import engine_get, engine_names, engine_registry_reset
from tests.engines.conftest import encode


@pytest.fixture(autouse=True)
def _fresh_registry():
    engine_registry_reset()
    yield
    engine_registry_reset()


def test_names() -> None:
    assert engine_names() == ["local", "mock", "gemini", "vertex", "fashn", "cog", "replicate"]


def test_default_is_the_setting(settings) -> None:
    settings.TRYON_ENGINE = "mock"
    assert isinstance(engine_get(), MockEngine)
    settings.TRYON_ENGINE = "local"
    assert isinstance(engine_get(), LocalEngine)


def test_an_account_override_wins(settings) -> None:
    settings.TRYON_ENGINE = "local"
    assert isinstance(engine_get(name="mock"), MockEngine)
    assert isinstance(engine_get(name=None), LocalEngine)


def test_unknown_engine() -> None:
    with pytest.raises(EngineError) as caught:
        engine_get(name="dall-e")
    assert caught.value.code == EngineErrorCode.ENGINE_ERROR
    assert caught.value.retryable is False


def test_one_instance_per_process_even_under_threads() -> None:
    seen: list[object] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait()
        seen.append(engine_get(name="local"))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(engine is seen[0] for engine in seen)
    assert engine_get(name="local") is seen[0]


def test_mock_returns_the_person_photo_unchanged() -> None:
    person = encode(__import__("numpy").full((40, 30, 3), 90, "uint8"), image_format="JPEG")
    result = engine_get(name="mock").run(TryOnRequest(person_image=person, garment_images=(b"x",)))
    assert result.image == person
    assert (result.content_type, result.engine) == ("image/jpeg", "mock")
    png = encode(__import__("numpy").zeros((4, 4, 3), "uint8"))
    assert engine_get(name="mock").run(TryOnRequest(person_image=png, garment_images=())).content_type == "image/png"
