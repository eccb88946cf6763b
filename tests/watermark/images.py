"""Images with known pixels for the watermark tests."""

from __future__ import annotations

import io

from PIL import Image

GREY = (100, 100, 100)
RED = (255, 0, 0)


def encoded(image: Image.Image, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def solid(*, size: tuple[int, int] = (400, 300), color=GREY, image_format: str = "PNG") -> bytes:
    return encoded(Image.new("RGB", size, color), image_format)


def half_logo(*, size: tuple[int, int] = (200, 100), color=RED, image_format: str = "PNG") -> bytes:
    """Opaque ``color`` on its left half, fully transparent on its right half."""
    logo = Image.new("RGBA", size, (*color, 0))
    logo.paste((*color, 255), (0, 0, size[0] // 2, size[1]))
    return encoded(logo, image_format)


def opaque_logo(*, size: tuple[int, int] = (200, 100), color=RED, image_format: str = "PNG") -> bytes:
    return encoded(Image.new("RGBA", size, (*color, 255)), image_format)


def pixel(data: bytes, xy: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").getpixel(xy)


def close(actual, expected, tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
