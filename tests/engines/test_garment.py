"""Garment cut-out and anchors on synthetic garments whose geometry is known exactly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.base import Category, EngineError, EngineErrorCode
from engines.local.anchors import bottom_anchors, category_from_shape, top_anchors
from engines.local.cutout import _edge_cutout, garment_cutout
from tests.engines.conftest import decode, encode
from vision.synthetic import (
    SyntheticGarment,
    synthetic_dress,
    synthetic_long_sleeve,
    synthetic_skirt,
    synthetic_trousers,
    synthetic_tshirt,
)


def anchors_in_source_pixels(garment: SyntheticGarment, *, image_format: str) -> dict[str, tuple[float, float]]:
    cutout = garment_cutout(image=decode(encode(garment.image, image_format=image_format)))
    finder = bottom_anchors if garment.category == Category.BOTTOMS else top_anchors
    return {k: (x / cutout.scale, y / cutout.scale) for k, (x, y) in finder(mask=cutout.mask).as_dict().items()}


def errors(garment: SyntheticGarment, found: dict[str, tuple[float, float]]) -> dict[str, float]:
    return {name: float(np.hypot(found[name][0] - x, found[name][1] - y)) for name, (x, y) in garment.anchors.items()}


def iou(found: np.ndarray, truth: np.ndarray) -> float:
    """Overlap of a cut-out (at its working size) with the true mask."""
    if truth.shape != found.shape:
        truth = cv2.resize(truth.astype(np.uint8), found.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    return float((found & truth).sum() / (found | truth).sum())


def test_tshirt_anchors_within_three_pixels() -> None:
    garment = synthetic_tshirt(pattern="logo")
    found = anchors_in_source_pixels(garment, image_format="PNG")
    assert set(found) == set(garment.anchors)
    assert max(errors(garment, found).values()) <= 3.0, errors(garment, found)


def test_tshirt_anchors_survive_jpeg() -> None:
    garment = synthetic_tshirt()
    assert max(errors(garment, anchors_in_source_pixels(garment, image_format="JPEG")).values()) <= 5.0


@pytest.mark.parametrize(
    ("garment", "tolerance"),
    [
        # The long sleeve meets the body at a 20 degree angle: the last pixels of that wedge are unresolvable.
        (synthetic_long_sleeve(pattern="stripes"), 5.0),
        (synthetic_dress(pattern="dots"), 3.0),
    ],
    ids=["long-sleeve", "dress"],
)
def test_other_top_anchors(garment: SyntheticGarment, tolerance: float) -> None:
    found = anchors_in_source_pixels(garment, image_format="PNG")
    assert max(errors(garment, found).values()) <= tolerance, errors(garment, found)


def test_dress_is_sleeveless_and_tshirt_has_sleeves() -> None:
    assert top_anchors(mask=synthetic_dress().mask).sleeve_l is None
    sleeves = top_anchors(mask=synthetic_tshirt().mask)
    assert sleeves.sleeve_l is not None and sleeves.sleeve_r is not None


def test_skirt_anchors() -> None:
    garment = synthetic_skirt()
    found = anchors_in_source_pixels(garment, image_format="PNG")
    assert set(found) == set(garment.anchors)  # no crotch, no inner hems
    assert max(errors(garment, found).values()) <= 3.0, errors(garment, found)


def test_trouser_anchors() -> None:
    garment = synthetic_trousers(pattern="denim")
    found = anchors_in_source_pixels(garment, image_format="PNG")
    errs = errors(garment, found)
    # The inside seams meet at 3 degrees: half a pixel across them is some 15 pixels along. The rest is exact.
    assert errs.pop("crotch") <= 30.0
    assert max(errs.values()) <= 3.0, errs


@pytest.mark.parametrize(
    ("garment", "expected"),
    [
        (synthetic_tshirt(), Category.TOPS),
        (synthetic_long_sleeve(), Category.TOPS),
        (synthetic_trousers(), Category.BOTTOMS),
        (synthetic_dress(), Category.DRESSES),
        (synthetic_skirt(), Category.BOTTOMS),
    ],
    ids=["t-shirt", "long-sleeve", "trousers", "dress", "skirt"],
)
def test_category_from_shape(garment: SyntheticGarment, expected: Category) -> None:
    assert category_from_shape(mask=garment.mask) == expected


def test_plain_background_cutout_matches_the_garment() -> None:
    garment = synthetic_tshirt(pattern="logo")
    cutout = garment_cutout(image=garment.image)
    assert cutout.method == "plain-background"
    assert iou(cutout.mask, garment.mask) > 0.99
    # The white logo is enclosed by the garment: it is print, not background.
    assert cutout.mask[300, 300]


def test_near_white_garment_on_white_keeps_its_outline() -> None:
    garment = synthetic_tshirt(colour=(248, 248, 248))
    image = garment.image.copy()
    contours, _ = cv2.findContours(garment.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(image, contours, -1, (222, 222, 222), 1)
    # A faint outline with gaps, as a real packshot's seams and shadow draw it.
    image[::9, :] = np.where(garment.mask[::9, :, None] & (image[::9, :] < 240), 255, image[::9, :])
    cutout = garment_cutout(image=decode(encode(image, image_format="JPEG")))
    assert cutout.method == "closed-outline"
    assert iou(cutout.mask, garment.mask) > 0.95


def test_the_edge_outline_finds_a_white_garment_drawn_only_by_its_shadow() -> None:
    """A white tee exactly the background's white with a bright print: only the soft shadow around it (a gradient
    of lightness, no colour) says where it ends. The edge outline takes the whole garment, print and white cloth,
    where a solid print inside the thin outline would otherwise win as the largest piece."""
    garment = synthetic_tshirt(colour=(255, 255, 255))
    image = garment.image.copy()
    ys, xs = np.nonzero(garment.mask)
    top = ys.min() + (ys.max() - ys.min()) // 6
    image[top : top + 120, xs.min() + 40 : xs.max() - 40] = (220, 40, 90)  # the print across the chest
    ring = (cv2.dilate(garment.mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~garment.mask
    shade = cv2.GaussianBlur(ring.astype(np.float32), (0, 0), 1.0)
    image = np.clip(image.astype(np.float32) - 12.0 * shade[..., None], 0, 255).astype(np.uint8)
    photo = decode(encode(image, image_format="JPEG"))
    found = _edge_cutout(cv2.cvtColor(photo, cv2.COLOR_RGB2LAB))
    assert found is not None
    assert iou(found, garment.mask) > 0.85  # the outline closing rounds the armpits a little (the print alone: 0.41)


def test_textured_background_falls_back_to_grabcut() -> None:
    garment = synthetic_trousers()
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0 : garment.image.shape[0], 0 : garment.image.shape[1]]
    background = np.stack([120 + 60 * np.sin(xx / 23.0), 170 + 40 * np.cos(yy / 31.0), 90 + 0 * xx], axis=-1)
    background = np.clip(background + rng.normal(0, 12, background.shape), 0, 255).astype(np.uint8)
    image = np.where(garment.mask[..., None], garment.image, background)
    cutout = garment_cutout(image=image)
    assert cutout.method == "grabcut"
    assert iou(cutout.mask, garment.mask) > 0.9


def test_alpha_channel_is_used_when_present() -> None:
    garment = synthetic_dress()
    rgba = np.dstack([garment.image, np.where(garment.mask, 255, 0).astype(np.uint8)])
    rgba[~garment.mask, :3] = (0, 200, 0)  # whatever colour transparent pixels carry is ignored
    cutout = garment_cutout(image=rgba)
    assert cutout.method == "alpha"
    assert iou(cutout.mask, garment.mask) > 0.98


@pytest.mark.parametrize(
    "image",
    [np.full((500, 400, 3), 255, np.uint8), np.full((500, 400, 3), (30, 90, 200), np.uint8)],
    ids=["white", "flat-colour"],
)
def test_blank_product_image_is_invalid(image: np.ndarray) -> None:
    with pytest.raises(EngineError) as caught:
        garment_cutout(image=image)
    assert caught.value.code == EngineErrorCode.PRODUCT_IMAGE_INVALID
    assert caught.value.retryable is False


def test_product_photo_that_is_all_garment_is_invalid() -> None:
    rng = np.random.default_rng(1)
    fabric = np.clip(rng.normal(128, 40, (400, 400, 3)), 0, 255).astype(np.uint8)
    with pytest.raises(EngineError) as caught:
        garment_cutout(image=fabric)
    assert caught.value.code == EngineErrorCode.PRODUCT_IMAGE_INVALID
