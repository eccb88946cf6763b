"""The watermark in the real pipeline (FakeEngine) and over HTTP: drawn when the call wants it and the account has
an enabled logo, otherwise the served result is byte-identical to what the engine returned."""

from __future__ import annotations

import pytest

from generations.models import Generation
from generations.services.pipeline import generation_process
from tests.generations.helpers import TRYON, FakeEngine
from tests.watermark.images import close, opaque_logo, pixel
from tryon_project.storage import blob_read
from watermark.services import watermark_settings_update

MAGENTA = (255, 0, 255)
GREEN = (0, 200, 0)  # what FakeEngine paints
# Person 600x750: a 25 % logo is 150x75, drawn 30 px (5 %) from the top-left corner.
LOGO_CENTRE = (30 + 75, 30 + 37)


def _body(base: str, image_id: str, shape: str, watermark: bool | None) -> dict:
    if shape == "v14":
        body = {
            "products": [{"externalId": "tee", "title": "Tee", "imageUrls": [f"{base}/shirt.jpg"]}],
            "person": {"image": {"source": {"id": image_id}}},
        }
        if watermark is not None:
            body["output"] = {"watermark": watermark}
        return body
    body = {
        "product": {"externalId": "tee", "title": "Tee", "images": [{"url": f"{base}/shirt.jpg"}]},
        "customer": {"id": image_id},
    }
    if watermark is not None:
        body["useWatermark"] = watermark
    return body


def _try_on(api, capture, body: dict) -> Generation:
    with capture(execute=True):
        response = api.post_json(TRYON, body)
    assert response.status_code == 202, response.content
    generation = Generation.objects.get(id=response.json()["generationId"])
    assert generation.status == "COMPLETED", generation.error_code
    return generation


def _served(api, generation: Generation) -> bytes:
    poll = api.get(f"/tryon/v1/generations/{generation.id}").json()
    response = api.get("/" + poll["resultImageUrl"].split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _engine_output(fake_engine: FakeEngine) -> bytes:
    # FakeEngine encodes deterministically: running it again on the same request gives the bytes it returned.
    return FakeEngine().run(fake_engine.calls[-1]).image


def _logo(account, **overrides) -> None:
    settings = {"position": "top-left", "size_pct": 25, "opacity_pct": 100, "margin_pct": 5, **overrides}
    watermark_settings_update(account=account, logo=opaque_logo(color=MAGENTA), **settings)


@pytest.mark.parametrize(("shape", "watermark"), [("v12", False), ("v14", False)])
def test_opt_out_gives_byte_identical_result(
    api, account, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks, shape, watermark
):
    _logo(account)
    generation = _try_on(api, django_capture_on_commit_callbacks, _body(images[0], uploaded_image_id, shape, watermark))
    assert generation.use_watermark is False
    plain = _engine_output(fake_engine)
    assert blob_read(key=generation.result_key) == plain
    assert _served(api, generation) == plain


@pytest.mark.parametrize("setup", ["no-settings", "no-logo", "disabled"])
def test_no_enabled_logo_gives_byte_identical_result(
    api, account, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks, setup
):
    if setup == "no-logo":
        watermark_settings_update(account=account, enabled=True)
    elif setup == "disabled":
        _logo(account, enabled=False)
    generation = _try_on(api, django_capture_on_commit_callbacks, _body(images[0], uploaded_image_id, "v12", None))
    assert generation.use_watermark is True
    assert _served(api, generation) == _engine_output(fake_engine)


@pytest.mark.parametrize("shape", ["v12", "v14"])
def test_default_call_is_watermarked_and_signed_url_serves_it(
    api, account, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks, shape
):
    _logo(account, opacity_pct=60)
    generation = _try_on(api, django_capture_on_commit_callbacks, _body(images[0], uploaded_image_id, shape, True))
    served = _served(api, generation)
    assert served == blob_read(key=generation.result_key)
    assert served != _engine_output(fake_engine)
    assert served[:3] == b"\xff\xd8\xff"  # still the JPEG the engine reported
    expected = tuple(round(0.6 * m + 0.4 * g) for m, g in zip(MAGENTA, GREEN, strict=True))
    assert close(pixel(served, LOGO_CENTRE), expected, tolerance=12), pixel(served, LOGO_CENTRE)
    assert close(pixel(served, (400, 600)), GREEN, tolerance=6)


def test_pipeline_called_directly_applies_the_watermark(
    api, account, images, uploaded_image_id, fake_engine, django_capture_on_commit_callbacks
):
    _logo(account, position="bottom-right")
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post_json(TRYON, _body(images[0], uploaded_image_id, "v12", None))
    generation_id = response.json()["generationId"]
    assert generation_process(generation_id=generation_id).status == "completed"
    stored = blob_read(key=Generation.objects.get(id=generation_id).result_key)
    assert close(pixel(stored, (600 - 30 - 75, 750 - 30 - 37)), MAGENTA, tolerance=12)
    assert close(pixel(stored, LOGO_CENTRE), GREEN, tolerance=6)
