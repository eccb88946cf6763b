"""Person photos whose top and arms are masked out flat grey (the try-on papers' agnostic images): the local engine
finds the grey area, dresses it, and changes nothing else. On the synthetic mannequin, whose pose is injected."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from engines.base import Category, EngineError, EngineErrorCode
from engines.local import LocalEngine
from tests.engines.conftest import encode, mannequin_engine
from tests.engines.test_local_engine import takes_colour
from tests.generations import conftest as generation_fixtures
from tests.generations.helpers import TRYON
from vision.masked import GREY, agnostic_mask
from vision.synthetic import Mannequin, synthetic_long_sleeve, synthetic_trousers, synthetic_tshirt

images = generation_fixtures.images

_FACE_SKIN = (222, 178, 146)  # the mannequin's


def _arm_capsules(mannequin: Mannequin, *, radius: int) -> np.ndarray:
    kp = mannequin.keypoints
    arms = np.zeros(mannequin.mask.shape, np.uint8)
    for side in ("left", "right"):
        for a, b in (("shoulder", "elbow"), ("elbow", "wrist")):
            start = tuple(round(v) for v in kp[f"{side}_{a}"][:2])
            end = tuple(round(v) for v in kp[f"{side}_{b}"][:2])
            cv2.line(arms, start, end, 1, 2 * radius)
    return arms > 0


def _grey_area(mannequin: Mannequin) -> np.ndarray:
    """What a try-on pre-processor greys out: the top and the arms down to the wrists, grown beyond the body."""
    area = mannequin.torso | _arm_capsules(mannequin, radius=28)
    grown = cv2.dilate(area.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0
    return grown & ~mannequin.face


@pytest.fixture(scope="module")
def agnostic(mannequin: Mannequin) -> tuple[np.ndarray, np.ndarray]:
    area = _grey_area(mannequin)
    image = mannequin.image.copy()
    image[area] = GREY
    # Through JPEG, as such photos travel: the grey's edge rings and its flat inside stays within a few levels.
    decoded = np.asarray(Image.open(io.BytesIO(encode(image, image_format="JPEG"))).convert("RGB"))
    return decoded, area


@pytest.fixture(scope="module")
def dressed(mannequin: Mannequin, mannequin_local: LocalEngine, agnostic) -> tuple:
    image, _ = agnostic
    garment = synthetic_tshirt()
    rendering = mannequin_local.render(person=image, garment=garment.image, category=Category.TOPS)
    return rendering, garment


def test_the_grey_area_is_found_and_ordinary_photos_have_none(mannequin: Mannequin, agnostic) -> None:
    image, area = agnostic
    found = agnostic_mask(person=image)
    assert found is not None
    # All of it, grown by its anti-aliased seam and no more.
    assert (found & area).sum() / area.sum() > 0.99
    assert (found & ~area).sum() / area.sum() < 0.05
    assert agnostic_mask(person=mannequin.image) is None


def test_a_grey_garment_and_a_grey_backdrop_are_not_a_mask(mannequin: Mannequin) -> None:
    rng = np.random.default_rng(7)
    # A mid-grey top as a camera sees it: folds (a slow wave of light) and sensor noise.
    shirt = mannequin.image.astype(np.float32)
    wave = 9 * np.sin(np.arange(mannequin.mask.shape[0]) / 14.0)[:, None]
    shirt[mannequin.torso] = (GREY + wave + rng.normal(0, 3, mannequin.mask.shape))[mannequin.torso][:, None]
    assert agnostic_mask(person=np.clip(shirt, 0, 255).astype(np.uint8)) is None
    # A studio's grey sweep: lighter at the top, sensor noise.
    backdrop = mannequin.image.astype(np.float32)
    outside = mannequin.mask < 0.5
    sweep = np.linspace(140, 116, mannequin.mask.shape[0])[:, None] + rng.normal(0, 4, mannequin.mask.shape)
    backdrop[outside] = sweep[outside][:, None]
    assert agnostic_mask(person=np.clip(backdrop, 0, 255).astype(np.uint8)) is None


def test_only_the_grey_area_changes_and_the_face_is_bit_identical(mannequin: Mannequin, agnostic, dressed) -> None:
    image, area = agnostic
    rendering, _ = dressed
    assert rendering.diagnostics["person_photo"] == "agnostic"
    changed = np.any(rendering.image != image, axis=2)
    outside = ~(cv2.dilate(area.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0)
    assert not changed[outside].any()
    assert np.array_equal(rendering.image[mannequin.face], image[mannequin.face])
    x0, y0, x1, y1 = rendering.changed_box
    assert not changed[:y0].any() and not changed[y1:].any()
    assert not changed[:, :x0].any() and not changed[:, x1:].any()


def test_no_grey_is_left_and_the_torso_wears_the_garment(mannequin: Mannequin, agnostic, dressed) -> None:
    _, area = agnostic
    rendering, garment = dressed
    inner = cv2.erode(area.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    still_grey = np.abs(rendering.image.astype(np.int16) - GREY).max(axis=2) <= 12
    assert float(still_grey[inner].mean()) < 0.01
    chest = cv2.erode(mannequin.torso.astype(np.uint8), np.ones((31, 31), np.uint8)) > 0
    assert takes_colour(rendering.image, chest, garment.colour) > 0.9


def test_forearms_below_short_sleeves_are_the_shoppers_skin(mannequin: Mannequin, agnostic, dressed) -> None:
    _, area = agnostic
    rendering, _ = dressed
    kp = mannequin.keypoints
    forearms = np.zeros(area.shape, np.uint8)
    for side in ("left", "right"):
        elbow, wrist = np.array(kp[f"{side}_elbow"][:2]), np.array(kp[f"{side}_wrist"][:2])
        start = elbow + 0.25 * (wrist - elbow)  # clear of the sleeve's hem
        cv2.line(forearms, tuple(round(v) for v in start), tuple(round(v) for v in wrist), 1, 14)
    region = (forearms > 0) & area & ~mannequin.torso
    assert region.sum() > 500
    assert takes_colour(rendering.image, region, _FACE_SKIN, tolerance=40) > 0.8


def test_long_sleeves_cover_the_arms(mannequin: Mannequin, mannequin_local: LocalEngine, agnostic) -> None:
    image, area = agnostic
    garment = synthetic_long_sleeve()
    rendering = mannequin_local.render(person=image, garment=garment.image, category=Category.TOPS)
    assert rendering.diagnostics["parts"] == ["torso", "sleeve_l", "sleeve_r"]
    upper_arms = _arm_capsules(mannequin, radius=8) & area & ~mannequin.torso
    assert takes_colour(rendering.image, upper_arms, garment.colour) > 0.6


def test_trousers_on_a_masked_top_are_refused(mannequin_local: LocalEngine, agnostic) -> None:
    image, _ = agnostic
    with pytest.raises(EngineError) as caught:
        mannequin_local.render(person=image, garment=synthetic_trousers().image, category=Category.BOTTOMS)
    assert caught.value.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "only a top" in caught.value.message


def test_a_masked_photo_is_dressed_through_the_api(
    api, account, images, mannequin: Mannequin, agnostic, eager, django_capture_on_commit_callbacks
) -> None:
    """Upload, try-on, poll, fetch: the result has the garment where the grey was, and the face as sent."""
    from generations.engine_config import engine_registry

    image, _ = agnostic
    base, handler = images
    garment = synthetic_tshirt()
    handler.routes["/tee.png"] = (200, "image/png", encode(garment.image))
    upload = io.BytesIO(encode(image))
    upload.name = "masked.png"
    response = api.post("/tryon/v1/images/upload", {"file": upload, "crop": "false"})
    assert response.status_code == 201, response.content
    product = {"title": "Red tee", "images": [{"url": f"{base}/tee.png"}], "externalId": "tee-1"}
    customer = {"id": response.json()["imageId"]}
    with (
        engine_registry().override(name="*", engine=mannequin_engine(mannequin)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        accepted = api.post_json(TRYON, {"product": product, "customer": customer})
    assert accepted.status_code == 202, accepted.content
    body = api.get(f"/tryon/v1/generations/{accepted.json()['generationId']}").json()
    assert body["status"] == "COMPLETED", body
    key = urlsplit(body["resultImageUrl"]).path.removeprefix("/files/")
    with default_storage.open(key) as handle:
        result = np.asarray(Image.open(handle).convert("RGB"))
    assert result.shape == image.shape
    chest = cv2.erode(mannequin.torso.astype(np.uint8), np.ones((31, 31), np.uint8)) > 0
    assert takes_colour(result, chest, garment.colour) > 0.85
    # JPEG-encoded result: the face within a few levels of the photo sent, not repainted.
    face_error = np.abs(result[mannequin.face].astype(np.int16) - image[mannequin.face].astype(np.int16))
    assert float(face_error.mean()) < 4.0
