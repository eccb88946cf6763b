"""What every hosted adapter shares: the per-request time limit, reading an image header, short error text."""

from __future__ import annotations

import base64
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from engines.base import EngineError, EngineErrorCode

# Per-request limit for hosted engines; the task's soft time limit is kept above it so a retry is possible.
DEFAULT_TIMEOUT_SECONDS = 60.0


def inspect_image(data: bytes, *, code: EngineErrorCode) -> tuple[str, tuple[int, int]]:
    """MIME type and size read from the image header (no full decode); raises EngineError(code) if unreadable."""
    try:
        with Image.open(BytesIO(data)) as image:
            # Pillow names JPEGs with an embedded second picture (common from phones) "MPO"; on the wire it is JPEG.
            image_format = "JPEG" if image.format == "MPO" else image.format or ""
            mime_type = Image.MIME.get(image_format, "")
            size = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise EngineError(code, "The image could not be read.") from exc
    if not mime_type:
        raise EngineError(code, "The image format is not supported.")
    return mime_type, size


def data_url(data: bytes, *, code: EngineErrorCode) -> str:
    """The image as a ``data:`` URL, its type read from the bytes (never from a declared type)."""
    mime_type, _ = inspect_image(data, code=code)
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def short(text: str, limit: int = 300) -> str:
    """One line of at most `limit` characters: provider messages go into generation errors and logs."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
