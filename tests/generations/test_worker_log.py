"""The worker's line per generation attempt: gen_ id, engine, outcome; codes, never messages or URLs."""

from __future__ import annotations

import logging

import pytest

from tests.generations.helpers import TRYON, retryable, terminal


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def lines():
    """On the logger itself: the first task run in a process may reconfigure the root logger's handlers."""
    logger = logging.getLogger("tryon.generations")
    handler, level = _Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [message for message in handler.messages if message.startswith("generation gen_")]
    logger.removeHandler(handler)
    logger.setLevel(level)


def _start(api, base, image_id) -> str:
    response = api.post_json(
        TRYON,
        {
            "product": {"externalId": "tee", "title": "Red tee", "images": [{"url": f"{base}/shirt.jpg"}]},
            "customer": {"id": image_id},
        },
    )
    assert response.status_code == 202
    return response.json()["generationId"]


def test_a_completed_attempt_names_id_engine_and_timings(
    api, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks, lines
):
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        generation_id = _start(api, base, uploaded_image_id)
    [line] = lines()
    assert line.startswith(f"generation {generation_id} completed engine=fake attempt=1 engine_ms=1.0 total_ms=")


def test_a_failed_attempt_names_its_code_not_its_message(
    api, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks, lines, settings
):
    fake_engine.errors = [terminal(message="no person at https://cdn.example/secret.jpg")]
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        generation_id = _start(api, base, uploaded_image_id)
    [line] = lines()
    engine = settings.TRYON_ENGINE
    assert line == f"generation {generation_id} failed engine={engine} attempt=1 code=PERSON_NOT_DETECTED"
    assert "https" not in line


def test_a_retried_attempt_then_its_completion(
    api, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks, lines
):
    fake_engine.errors = [retryable()]
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        generation_id = _start(api, base, uploaded_image_id)
    logged = lines()
    assert len(logged) == 2
    assert logged[0].startswith(f"generation {generation_id} retrying code=ENGINE_ERROR engine=")
    assert logged[1].startswith(f"generation {generation_id} completed engine=fake attempt=2 ")
