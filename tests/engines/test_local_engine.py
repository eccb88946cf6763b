"""The local engine on the synthetic mannequin, whose keypoints and mask are injected exactly: properties of the
result, never hashes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.base import (
    Category,
    EngineError,
    EngineErrorCode,
    EngineOptions,
    TryOnRequest,
)
from engines.local import LocalEngine, PersonPose
from tests.engines.conftest import decode, encode, mannequin_engine
from vision.synthetic import (
    Mannequin,
    SyntheticGarment,
    synthetic_dress,
    synthetic_long_sleeve,
    synthetic_mannequin,
    synthetic_skirt,
    synthetic_trousers,
    synthetic_tshirt,
)

SHOULDER_WIDTH = 180  # the mannequin's, joint to joint


def takes_colour(
    image: np.ndarray, region: np.ndarray, colour: tuple[int, int, int], *, tolerance: float = 70.0
) -> float:
    """Share of the region's pixels within `tolerance` (RGB distance) of the colour."""
    distance = np.linalg.norm(image[region].astype(np.float32) - np.array(colour, np.float32), axis=1)
    return float((distance <= tolerance).mean())


def outside_dilated_body(mannequin: Mannequin, *, extra: np.ndarray | None = None) -> np.ndarray:
    """Pixels farther than a tenth of a shoulder width from the body: the engine may never touch them."""
    body = mannequin.mask > 0.5
    if extra is not None:
        body |= extra
    radius = round(0.1 * SHOULDER_WIDTH)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(body.astype(np.uint8), kernel) == 0


GARMENTS = {
    "t-shirt": synthetic_tshirt(),
    "long-sleeve": synthetic_long_sleeve(),
    "trousers": synthetic_trousers(),
    "dress": synthetic_dress(),
}


@pytest.fixture(scope="module")
def renders(mannequin: Mannequin, mannequin_local: LocalEngine) -> dict[str, np.ndarray]:
    return {
        name: mannequin_local.render(person=mannequin.image, garment=g.image, category=g.category).image
        for name, g in GARMENTS.items()
    }


@pytest.mark.parametrize("name", list(GARMENTS))
def test_size_is_kept(renders: dict[str, np.ndarray], mannequin: Mannequin, name: str) -> None:
    assert renders[name].shape == mannequin.image.shape
    assert renders[name].dtype == np.uint8


@pytest.mark.parametrize("name", list(GARMENTS))
def test_face_is_bit_identical(renders: dict[str, np.ndarray], mannequin: Mannequin, name: str) -> None:
    assert np.array_equal(renders[name][mannequin.face], mannequin.image[mannequin.face])


@pytest.mark.parametrize("name", ["t-shirt", "long-sleeve", "trousers"])
def test_nothing_changes_outside_the_dilated_body_mask(
    renders: dict[str, np.ndarray], mannequin: Mannequin, name: str
) -> None:
    outside = outside_dilated_body(mannequin)
    assert np.array_equal(renders[name][outside], mannequin.image[outside])
    assert not np.array_equal(renders[name], mannequin.image)


def test_a_dress_also_spans_the_gap_between_the_legs_and_nothing_beyond(
    renders: dict[str, np.ndarray], mannequin: Mannequin
) -> None:
    image = renders["dress"]
    legs = mannequin.regions["legs"]
    ys, xs = np.nonzero(legs)
    hull = np.zeros(legs.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.int32)), 1)
    outside = outside_dilated_body(mannequin, extra=hull > 0)
    assert np.array_equal(image[outside], mannequin.image[outside])
    # Between the knees, where the background showed, the skirt now hangs.
    between_knees = (slice(700, 740), slice(376, 392))
    assert takes_colour(image[between_knees].reshape(-1, 3), np.ones(16 * 40, bool), GARMENTS["dress"].colour) > 0.8


@pytest.mark.parametrize("name", ["t-shirt", "long-sleeve"])
def test_the_torso_takes_the_garment_colour(renders: dict[str, np.ndarray], mannequin: Mannequin, name: str) -> None:
    assert takes_colour(renders[name], mannequin.torso, GARMENTS[name].colour) >= 0.8


def test_the_legs_take_the_trousers_colour(renders: dict[str, np.ndarray], mannequin: Mannequin) -> None:
    assert takes_colour(renders["trousers"], mannequin.legs, GARMENTS["trousers"].colour) >= 0.8
    # Trousers start at the waist: the chest is left as it was.
    chest = np.zeros_like(mannequin.torso)
    chest[240:400] = mannequin.torso[240:400]
    assert np.array_equal(renders["trousers"][chest], mannequin.image[chest])


def test_long_sleeves_cover_the_forearms_and_short_ones_do_not(
    renders: dict[str, np.ndarray], mannequin: Mannequin
) -> None:
    forearms = mannequin.regions["arms"].copy()
    forearms[:420] = False  # below the elbows, above the hands
    forearms[480:] = False
    assert takes_colour(renders["long-sleeve"], forearms, GARMENTS["long-sleeve"].colour) >= 0.6
    assert np.array_equal(renders["t-shirt"][forearms], mannequin.image[forearms])


def test_a_forearm_across_the_body_stays_in_front_of_the_shirt() -> None:
    person = synthetic_mannequin(forearm_across=True)
    image = (
        mannequin_engine(person)
        .render(person=person.image, garment=GARMENTS["t-shirt"].image, category=Category.TOPS)
        .image
    )
    forearm_over_torso = person.regions["arms"] & person.regions["torso"]
    forearm_over_torso[:390] = False  # the shoulders' overlap with the torso is the sleeves' to cover
    assert forearm_over_torso.sum() > 1500
    assert np.array_equal(image[forearm_over_torso], person.image[forearm_over_torso])
    # ... while the shirt covers the torso around it.
    assert takes_colour(image, person.torso, GARMENTS["t-shirt"].colour) >= 0.8


def test_a_collar_reaching_the_face_never_covers_it(mannequin: Mannequin, mannequin_local: LocalEngine) -> None:
    tall = synthetic_tshirt()
    image = tall.image.copy()
    cv2.rectangle(image, (255, 0), (345, 140), tall.colour, -1)  # a funnel neck rising far above the shoulders
    result = mannequin_local.render(person=mannequin.image, garment=image, category=Category.TOPS).image
    assert np.array_equal(result[mannequin.face], mannequin.image[mannequin.face])
    below_chin = np.zeros_like(mannequin.face)
    below_chin[212:226, 370:398] = True
    assert takes_colour(result, below_chin, tall.colour) > 0.5  # the collar did come up to the face


def test_run_returns_a_jpeg_of_the_person_size(mannequin: Mannequin, mannequin_local: LocalEngine) -> None:
    request = TryOnRequest(
        person_image=encode(mannequin.image, image_format="JPEG"),
        garment_images=(encode(GARMENTS["t-shirt"].image, image_format="JPEG"),),
        title="Basic T-shirt",
    )
    result = mannequin_local.run(request)
    assert result.content_type == "image/jpeg"
    assert result.image[:3] == b"\xff\xd8\xff"
    assert decode(result.image).shape == mannequin.image.shape
    assert (result.engine, result.engine_version) == ("local", LocalEngine.version)
    assert {"decode", "pose", "cutout", "fit", "warp", "compose", "encode", "total"} <= set(result.timings_ms)
    assert result.diagnostics["category"] == "tops"
    assert result.diagnostics["category_source"] == "text"


def test_output_size_option(mannequin: Mannequin, mannequin_local: LocalEngine) -> None:
    request = TryOnRequest(
        person_image=encode(mannequin.image),
        garment_images=(encode(GARMENTS["dress"].image),),
        category=Category.DRESSES,
        options=EngineOptions(output_size=(400, 300)),
    )
    assert decode(mannequin_local.run(request).image).shape == (300, 400, 3)


def test_seed_and_quality_are_reported_ignored_and_the_photo_type_is_not(
    mannequin: Mannequin, mannequin_local: LocalEngine
) -> None:
    def run(options: EngineOptions) -> dict:
        request = TryOnRequest(
            person_image=encode(mannequin.image),
            garment_images=(encode(GARMENTS["dress"].image),),
            category=Category.DRESSES,
            options=options,
        )
        return mannequin_local.run(request).diagnostics

    sent = run(EngineOptions(seed=7, requested=frozenset({"seed", "quality", "garmentPhotoType"})))
    assert sent["ignored_options"] == ["quality", "seed"]
    assert "ignored_options" not in run(EngineOptions())


def test_category_falls_back_to_the_garment_shape(mannequin: Mannequin, mannequin_local: LocalEngine) -> None:
    result = mannequin_local.render(person=mannequin.image, garment=GARMENTS["trousers"].image, title="Item 4021")
    assert result.category == Category.BOTTOMS
    assert result.diagnostics["category_source"] == "shape"


def request_for(garment: SyntheticGarment, *, person: bytes, title: str = "") -> TryOnRequest:
    return TryOnRequest(person_image=person, garment_images=(encode(garment.image),), title=title)


class _Nobody:
    def estimate(self, *, image: np.ndarray) -> PersonPose | None:
        return None


@pytest.mark.parametrize(
    ("request_kwargs", "code"),
    [
        ({"person_image": b"not an image"}, EngineErrorCode.CUSTOMER_IMAGE_INVALID),
        ({"person_image": b"\xff\xd8\xff\xe0 truncated"}, EngineErrorCode.CUSTOMER_IMAGE_INVALID),
        ({"garment_images": ()}, EngineErrorCode.PRODUCT_IMAGE_INVALID),
        ({"garment_images": (b"<svg/>",)}, EngineErrorCode.PRODUCT_IMAGE_INVALID),
        ({"garment_images": (encode(np.full((400, 300, 3), 255, np.uint8)),)}, EngineErrorCode.PRODUCT_IMAGE_INVALID),
        ({"title": "Lunettes de soleil"}, EngineErrorCode.UNSUPPORTED_PRODUCT),
        ({"title": "Running shoes"}, EngineErrorCode.UNSUPPORTED_PRODUCT),
    ],
    ids=["garbage-person", "truncated-person", "no-garment", "garbage-garment", "blank-garment", "eyewear", "shoes"],
)
def test_error_mapping(mannequin: Mannequin, mannequin_local: LocalEngine, request_kwargs: dict, code: str) -> None:
    fields = {
        "person_image": encode(mannequin.image),
        "garment_images": (encode(GARMENTS["t-shirt"].image),),
        **request_kwargs,
    }
    with pytest.raises(EngineError) as caught:
        mannequin_local.run(TryOnRequest(**fields))
    assert caught.value.code == code
    assert caught.value.retryable is False


def test_no_person_is_person_not_detected(mannequin: Mannequin) -> None:
    with pytest.raises(EngineError) as caught:
        LocalEngine(pose_estimator=_Nobody()).run(request_for(GARMENTS["t-shirt"], person=encode(mannequin.image)))
    assert caught.value.code == EngineErrorCode.PERSON_NOT_DETECTED


def test_trousers_need_visible_hips(mannequin: Mannequin) -> None:
    keypoints = dict(mannequin.keypoints)
    for name in ("left_hip", "right_hip"):
        x, y, _ = keypoints[name]
        keypoints[name] = (x, y, 0.1)  # guessed outside a half-length portrait
    engine = mannequin_engine(
        Mannequin(
            image=mannequin.image,
            mask=mannequin.mask,
            keypoints=keypoints,
            face=mannequin.face,
            torso=mannequin.torso,
            legs=mannequin.legs,
            regions=mannequin.regions,
        )
    )
    with pytest.raises(EngineError) as caught:
        engine.render(person=mannequin.image, garment=GARMENTS["trousers"].image, category=Category.BOTTOMS)
    assert caught.value.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "hips and legs" in caught.value.message
    # A top only needs the shoulders.
    engine.render(person=mannequin.image, garment=GARMENTS["t-shirt"].image, category=Category.TOPS)


def test_hidden_shoulders_are_person_not_detected(mannequin: Mannequin) -> None:
    keypoints = {**mannequin.keypoints, "left_shoulder": (474.0, 236.0, 0.2)}
    engine = mannequin_engine(
        Mannequin(
            image=mannequin.image,
            mask=mannequin.mask,
            keypoints=keypoints,
            face=mannequin.face,
            torso=mannequin.torso,
            legs=mannequin.legs,
        )
    )
    with pytest.raises(EngineError) as caught:
        engine.render(person=mannequin.image, garment=GARMENTS["t-shirt"].image, category=Category.TOPS)
    assert caught.value.code == EngineErrorCode.PERSON_NOT_DETECTED


def test_rendering_is_deterministic(
    mannequin: Mannequin, mannequin_local: LocalEngine, renders: dict[str, np.ndarray]
) -> None:
    again = mannequin_local.render(person=mannequin.image, garment=GARMENTS["t-shirt"].image, category=Category.TOPS)
    assert np.array_equal(again.image, renders["t-shirt"])


def test_a_later_product_image_is_used_when_the_first_is_unusable(
    mannequin: Mannequin, mannequin_local: LocalEngine
) -> None:
    blank = encode(np.full((400, 300, 3), 250, np.uint8))
    request = TryOnRequest(
        person_image=encode(mannequin.image),
        category=Category.TOPS,
        garment_images=(blank, b"garbage", encode(GARMENTS["t-shirt"].image)),
    )
    image = decode(mannequin_local.run(request).image)
    assert takes_colour(image, mannequin.torso, GARMENTS["t-shirt"].colour) >= 0.8
    with pytest.raises(EngineError) as caught:
        mannequin_local.run(TryOnRequest(person_image=encode(mannequin.image), garment_images=(blank, blank)))
    assert caught.value.code == EngineErrorCode.PRODUCT_IMAGE_INVALID


def test_a_skirt_hangs_across_the_legs(mannequin: Mannequin, mannequin_local: LocalEngine) -> None:
    skirt = synthetic_skirt()
    result = mannequin_local.render(person=mannequin.image, garment=skirt.image, title="Jupe trapèze")
    assert result.category == Category.BOTTOMS
    assert result.diagnostics["parts"] == ["legs"]
    between_thighs = np.zeros_like(mannequin.face)
    between_thighs[560:600, 378:390] = True  # background between the legs until now
    assert takes_colour(result.image, between_thighs, skirt.colour) > 0.8
    legs = mannequin.regions["legs"]
    ys, xs = np.nonzero(legs)
    hull = np.zeros(legs.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.int32)), 1)
    outside = outside_dilated_body(mannequin, extra=hull > 0)
    assert np.array_equal(result.image[outside], mannequin.image[outside])
