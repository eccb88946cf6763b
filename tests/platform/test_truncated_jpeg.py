"""A JPEG cut short and closed with an EOI marker decodes without an error (the missing blocks come out flat grey):
it is refused as INVALID_IMAGE, while complete images with a flat bottom edge are kept."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from customers.models import CustomerImage
from tryon_project.api.errors import ErrorCode
from tryon_project.images import image_normalize


def _photo(*, width: int = 800, height: int = 600, flat_bottom: tuple[int, int, int] | None = None) -> Image.Image:
    rng = np.random.default_rng(7)
    ramp = np.linspace(30, 220, width)[None, :, None] * np.ones((height, 1, 3))
    pixels = np.clip(ramp + rng.integers(-25, 25, (height, width, 3)), 0, 255).astype(np.uint8)
    if flat_bottom is not None:
        pixels[height // 2 :, :, :] = flat_bottom
    return Image.fromarray(pixels)


def _jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88, **options)
    return buffer.getvalue()


def _cut_and_closed(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)] + b"\xff\xd9"


def _assert_refused(data: bytes) -> None:
    with pytest.raises(Exception) as raised:  # the image path's refusal type, whatever its class
        image_normalize(data=data)
    assert raised.value.code is ErrorCode.INVALID_IMAGE
    assert "truncated" in raised.value.message


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9, 0.97])
@pytest.mark.parametrize("options", [{}, {"optimize": True}, {"subsampling": 0}], ids=["plain", "optimized", "444"])
def test_baseline_jpeg_cut_and_closed_with_eoi_is_refused(fraction, options):
    _assert_refused(_cut_and_closed(_jpeg(_photo(), **options), fraction))


@pytest.mark.parametrize("fraction", [0.01, 0.02, 0.03])
def test_progressive_jpeg_cut_in_its_first_scan_is_refused(fraction):
    # Cut while the first (DC) scan is incomplete (its first 3 % here): the rest of the picture has no colour at all.
    _assert_refused(_cut_and_closed(_jpeg(_photo(), progressive=True), fraction))


def test_a_large_jpeg_decoded_at_draft_scale_is_checked_at_that_scale():
    data = _jpeg(_photo(width=4800, height=3600))
    _assert_refused(_cut_and_closed(data, 0.6))
    assert image_normalize(data=data).width == 2048


@pytest.mark.parametrize("colour", [(255, 255, 255), (128, 128, 128), (12, 40, 90)])
@pytest.mark.parametrize("options", [{}, {"progressive": True}], ids=["baseline", "progressive"])
def test_complete_jpegs_with_a_flat_bottom_are_kept(colour, options):
    data = _jpeg(_photo(flat_bottom=colour), **options)
    started = time.monotonic()
    image = image_normalize(data=data)
    assert time.monotonic() - started < 2.0
    assert (image.width, image.height) == (800, 600)
    decoded = np.asarray(Image.open(io.BytesIO(image.data)))
    assert np.abs(decoded[-1].astype(int) - colour).max() <= 3


def test_complete_jpeg_with_data_after_its_eoi_is_kept():
    data = _jpeg(_photo(flat_bottom=(255, 255, 255))) + b"<html>\xff\xda\x00\x08 trailing \xff\xd9</html>"
    assert image_normalize(data=data).width == 800


def test_upload_of_a_cut_jpeg_is_invalid_image_and_stores_nothing(api):
    buffer = io.BytesIO(_cut_and_closed(_jpeg(_photo()), 0.5))
    buffer.name = "cut.jpg"
    response = api.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false"})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_IMAGE"
    assert CustomerImage.objects.count() == 0
