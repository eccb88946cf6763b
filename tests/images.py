"""Image bytes for tests, made in memory."""

from __future__ import annotations

import io

from PIL import Image


def jpeg_bytes(
    *, width: int = 400, height: int = 500, color: tuple[int, int, int] = (200, 60, 40), exif: bytes | None = None
) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    if exif is not None:
        image.save(buffer, "JPEG", quality=90, exif=exif)
    else:
        image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def png_bytes(*, width: int = 300, height: int = 300, mode: str = "RGB", color=(10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()
