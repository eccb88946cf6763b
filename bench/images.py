"""Upload image processing cost, as a ratio to bare Pillow doing the same essential work in the same process.

The floor is what any server must do with a photo: open, full decode, EXIF transpose, resize to the cap, JPEG
encode, with the same filter and quality as :func:`tryon_project.images.image_normalize`. The ratio is what the
checks on top of it (format restriction, header limits, mode and colour handling, metadata stripping) cost.

    .venv/bin/python bench/images.py [--runs N]   (from the repository root)
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and bench/products.py would shadow the `products` app.
_ROOT = str(Path(__file__).resolve().parent.parent)
sys.path[:] = [_ROOT, *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryon_project.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from PIL import ExifTags, Image, ImageOps  # noqa: E402
from skimage import data as skimage_data  # noqa: E402

from tryon_project.images import JPEG_QUALITY, image_normalize  # noqa: E402

Box = tuple[int, int, int, int]


def four_by_five(im: Image.Image) -> Box:
    """A centre 4:5 crop, the shape the upload path asks for."""
    width = min(im.width, im.height * 4 // 5)
    height = min(im.height, im.width * 5 // 4)
    left, top = (im.width - width) // 2, (im.height - height) // 2
    return (left, top, left + width, top + height)


def phone_photo(*, upright_size: tuple[int, int], orientation: int) -> bytes:
    """The astronaut photo at `upright_size`, stored as a camera does (sideways for orientation 6), with GPS."""
    upright = Image.fromarray(skimage_data.astronaut())
    side = upright.height * upright_size[0] // upright_size[1]
    upright = upright.crop(((upright.width - side) // 2, 0, (upright.width + side) // 2, upright.height))
    upright = upright.resize(upright_size, Image.Resampling.BICUBIC)
    stored = upright.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else upright
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "BenchCam"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0)}
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def floor(data: bytes, *, long_side: int, crop_box: Callable[[Image.Image], Box] | None) -> bytes:
    im = Image.open(io.BytesIO(data))
    im.load()
    im = ImageOps.exif_transpose(im)
    if crop_box is not None:
        im = im.crop(crop_box(im))
    if max(im.size) > long_side:
        scale = long_side / max(im.size)
        size = (round(im.width * scale), round(im.height * scale))
        im = im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def normalize(data: bytes, *, long_side: int, crop_box: Callable[[Image.Image], Box] | None) -> bytes:
    return image_normalize(data=data, max_long_side=long_side, crop_box=crop_box).data


def median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    long_side = settings.TRYON_MAX_LONG_SIDE
    large = phone_photo(upright_size=(3000, 4000), orientation=6)
    cases = {
        "3000x4000_exif6": (large, None),
        "3000x4000_exif6_crop45": (large, four_by_five),
        "1200x1600": (phone_photo(upright_size=(1200, 1600), orientation=1), None),
    }
    print(f"images.long_side={long_side} images.runs={runs}")
    ratios = []
    for name, (data, crop_box) in cases.items():
        timings: dict[str, list[float]] = {"floor": [], "normalize": []}
        functions = {"floor": floor, "normalize": normalize}
        for run in range(runs + 2):
            # Alternate the order so that drift (caches, CPU frequency) is shared by both sides.
            order = ("floor", "normalize") if run % 2 else ("normalize", "floor")
            for side in order:
                started = time.perf_counter()
                functions[side](data, long_side=long_side, crop_box=crop_box)
                elapsed = time.perf_counter() - started
                if run >= 2:  # the first two rounds warm up
                    timings[side].append(elapsed)
        floor_ms, normalize_ms = median_ms(timings["floor"]), median_ms(timings["normalize"])
        ratio = normalize_ms / floor_ms
        ratios.append(ratio)
        print(f"images.normalize.{name}.input_bytes={len(data)}")
        print(f"images.normalize.{name}.floor_ms={floor_ms:.1f}")
        print(f"images.normalize.{name}.ms={normalize_ms:.1f}")
        print(f"images.normalize.{name}.ratio_to_floor={ratio:.2f}")
    print(f"images.normalize.ratio_to_floor={max(ratios):.2f}")


if __name__ == "__main__":
    main()
