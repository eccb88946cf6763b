"""What a generation says about its own timing and engine must be true: no double-counted engine time, no
completion before creation, the same engine name whether it failed or completed."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from engines.base import TryOnRequest, TryOnResult
from generations.engine_config import engine_registry
from generations.models import Generation
from tests.generations.helpers import TRYON, terminal


class _StagedEngine:
    """Reports stages plus the `total` that contains them, as the local and hosted engines do."""

    name = "staged"
    version = "1"

    def run(self, request: TryOnRequest) -> TryOnResult:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (0, 0, 200)).save(buffer, "JPEG")
        return TryOnResult(
            image=buffer.getvalue(),
            content_type="image/jpeg",
            engine="staged",
            engine_version="1",
            timings_ms={"pose": 300.0, "render": 900.0, "total": 1250.0},
        )


def _start(api, base: str, image_id: str, title: str = "Red tee") -> str:
    response = api.post_json(
        TRYON,
        {
            "product": {"externalId": "shirt-1", "title": title, "images": [{"url": f"{base}/shirt.jpg"}]},
            "customer": {"id": image_id},
        },
    )
    assert response.status_code == 202, response.content
    return response.json()["generationId"]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_engine_ms_is_the_engines_total_not_the_sum_of_stages_and_total(
    api, images, uploaded_image_id, eager, django_capture_on_commit_callbacks
):
    base, _ = images
    with engine_registry().override(name="*", engine=_StagedEngine()), django_capture_on_commit_callbacks(execute=True):
        generation_id = _start(api, base, uploaded_image_id)
    generation = Generation.objects.get(id=generation_id)
    assert generation.status == "COMPLETED"
    assert generation.timings["engine_ms"] == 1250.0  # not 2450.0 (pose + render + total)
    assert generation.timings["engine"] == "staged"
    assert generation.timings["total_ms"] >= generation.timings["inputs_ms"]


def test_engine_ms_without_a_total_is_the_sum_of_the_stages(
    api, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks
):
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        generation_id = _start(api, base, uploaded_image_id)
    assert Generation.objects.get(id=generation_id).timings["engine_ms"] == 1.0  # the fake's one stage


def test_mock_generation_completes_at_its_creation_instant_never_before(api, images, uploaded_image_id):
    base, _ = images
    generation_id = _start(api, base, uploaded_image_id, title="mock")
    body = api.get(f"/tryon/v1/generations/{generation_id}").json()
    assert body["status"] == "COMPLETED"
    assert _at(body["completedAt"]) == _at(body["createdAt"]) == _at(body["updatedAt"])
    assert body["durationMs"] == 0
    generation = Generation.objects.get(id=generation_id)
    assert generation.started_at == generation.completed_at == generation.created_at


def test_failed_and_completed_generations_name_the_same_engine(
    api, images, uploaded_image_id, fake_engine, eager, settings, django_capture_on_commit_callbacks
):
    base, _ = images
    fake_engine.errors = [terminal()]
    with django_capture_on_commit_callbacks(execute=True):
        failed_id = _start(api, base, uploaded_image_id)
    with django_capture_on_commit_callbacks(execute=True):
        completed_id = _start(api, base, uploaded_image_id)
    failed, completed = Generation.objects.get(id=failed_id), Generation.objects.get(id=completed_id)
    assert (failed.status, completed.status) == ("FAILED", "COMPLETED")
    # The account has no engine of its own: both rows name the server's default, not a blank "default".
    assert failed.engine == completed.engine == settings.TRYON_ENGINE == engine_registry().default
    assert failed.engine != ""


def test_an_accounts_own_engine_is_recorded(api, account, images, uploaded_image_id, fake_engine):
    account.engine = "mock"
    account.save(update_fields=["engine"])
    base, _ = images
    generation_id = _start(api, base, uploaded_image_id)
    assert Generation.objects.get(id=generation_id).engine == "mock"
