"""The pure compositing function: the logo lands where asked, at the opacity asked, and nothing else changes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.watermark.images import GREY, RED, close, half_logo, opaque_logo, pixel, solid
from watermark.compositing import Box, WatermarkError, watermark_box, watermark_composite

# A 400x300 image, a 200x100 logo at 25 % of the width (100x50) with a 5 % margin (20 px).
EXPECTED_BOXES = {
    "top-left": Box(left=20, top=20, width=100, height=50),
    "top-right": Box(left=280, top=20, width=100, height=50),
    "bottom-left": Box(left=20, top=230, width=100, height=50),
    "bottom-right": Box(left=280, top=230, width=100, height=50),
    "center": Box(left=150, top=125, width=100, height=50),
}


def _blend(top: tuple[int, int, int], bottom: tuple[int, int, int], opacity: float) -> tuple[int, ...]:
    return tuple(round(t * opacity + b * (1 - opacity)) for t, b in zip(top, bottom, strict=True))


@pytest.mark.parametrize("position", list(EXPECTED_BOXES))
def test_box_for_each_position(position):
    box = watermark_box(image_size=(400, 300), logo_size=(200, 100), position=position, size_pct=25, margin_pct=5)
    assert box == EXPECTED_BOXES[position]


@pytest.mark.parametrize("position", list(EXPECTED_BOXES))
@pytest.mark.parametrize("opacity", [100, 60, 25])
def test_logo_drawn_at_position_with_opacity(position, opacity):
    out = watermark_composite(
        image=solid(), logo=half_logo(), position=position, size_pct=25, opacity_pct=opacity, margin_pct=5
    )
    box = EXPECTED_BOXES[position]
    # Inside the opaque half of the logo: red blended over grey at the chosen opacity.
    inside = pixel(out, (box.left + 20, box.top + 25))
    assert close(inside, _blend(RED, GREY, opacity / 100), tolerance=2), inside
    # Inside the transparent half: the image, exactly.
    assert pixel(out, (box.left + 80, box.top + 25)) == GREY
    # Just outside the box on every side, and far away: untouched.
    for xy in ((box.left - 1, box.top + 25), (box.left + 20, box.top - 1), (box.left + 20, box.top + box.height)):
        assert pixel(out, xy) == GREY, xy
    with Image.open(io.BytesIO(out)) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (400, 300), "RGB")
        changed = int(np.any(np.asarray(image.convert("RGB")) != GREY, axis=2).sum())
    assert changed == pytest.approx(50 * 50, abs=2 * 50)  # the opaque half of the logo, give or take its edge


def test_jpeg_stays_jpeg_within_tolerance():
    out = watermark_composite(
        image=solid(image_format="JPEG"),
        logo=opaque_logo(),
        position="bottom-right",
        size_pct=25,
        opacity_pct=50,
        margin_pct=5,
    )
    assert out[:3] == b"\xff\xd8\xff"
    box = EXPECTED_BOXES["bottom-right"]
    assert close(pixel(out, (box.left + 50, box.top + 25)), _blend(RED, GREY, 0.5), tolerance=8)
    assert close(pixel(out, (40, 40)), GREY, tolerance=3)


def test_webp_logo_accepted_and_transparent_png_result_keeps_alpha():
    base = io.BytesIO()
    Image.new("RGBA", (400, 300), (*GREY, 128)).save(base, "PNG")
    out = watermark_composite(
        image=base.getvalue(),
        logo=half_logo(image_format="WEBP"),
        position="top-left",
        size_pct=25,
        opacity_pct=100,
        margin_pct=5,
    )
    with Image.open(io.BytesIO(out)) as image:
        assert image.mode == "RGBA"
        assert close(image.getpixel((40, 45)), (*RED, 255), tolerance=3)  # a lossy WebP logo
        assert image.getpixel((300, 200)) == (*GREY, 128)


def test_logo_shrinks_to_fit_between_margins():
    # 100 % of the width for a tall logo would overflow the height: it is scaled to the room left by the margins.
    box = watermark_box(image_size=(400, 300), logo_size=(100, 200), position="top-right", size_pct=100, margin_pct=5)
    assert box == Box(left=400 - 20 - 130, top=20, width=130, height=260)


def test_zero_opacity_draws_nothing():
    out = watermark_composite(
        image=solid(), logo=opaque_logo(), position="center", size_pct=50, opacity_pct=0, margin_pct=0
    )
    with Image.open(io.BytesIO(out)) as image:
        assert (np.asarray(image.convert("RGB")) == GREY).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"position": "middle"},
        {"size_pct": 0},
        {"size_pct": 101},
        {"opacity_pct": 101},
        {"margin_pct": 26},
        {"image": b"not an image"},
        {"logo": b"not a logo"},
        {"logo": solid(image_format="JPEG")},
    ],
)
def test_bad_input_is_a_watermark_error(kwargs):
    arguments = {
        "image": solid(),
        "logo": opaque_logo(),
        "position": "center",
        "size_pct": 20,
        "opacity_pct": 50,
        "margin_pct": 2,
        **kwargs,
    }
    with pytest.raises(WatermarkError):
        watermark_composite(**arguments)


def test_same_input_same_bytes():
    arguments = {
        "image": solid(image_format="JPEG"),
        "logo": half_logo(),
        "position": "bottom-left",
        "size_pct": 30,
        "opacity_pct": 70,
        "margin_pct": 4,
    }
    assert watermark_composite(**arguments) == watermark_composite(**arguments)
