"""Drawing a logo on an image: pure functions, bytes in and bytes out (no ORM, no storage, no settings).

Geometry, documented in docs/watermark.md:
- the logo is scaled to ``size_pct`` % of the image width, keeping its aspect ratio, and shrunk further if it
  would not fit between the margins;
- ``margin_pct`` is a % of the image width, applied on both axes so the gap looks the same at every corner;
  the centre position ignores it;
- ``opacity_pct`` multiplies the logo's own alpha channel, so transparent parts of the logo stay transparent.

The output keeps the input's format (a JPEG stays a JPEG, a PNG a PNG), because the caller stores it under the
content type the engine reported.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

# The same quality the one image path encodes with, so a watermarked result looks like every other result.
from tryon_project.images import JPEG_QUALITY

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "center")

# Engines return JPEG or PNG (hosted ones sometimes WebP); nothing else is parsed.
_RESULT_FORMATS = ("JPEG", "PNG", "WEBP")
# Logos arrive here already normalised (RGBA PNG) by the one image path.
_LOGO_FORMATS = ("PNG", "WEBP")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, Image.DecompressionBombError)


class WatermarkError(ValueError):
    """The image or the logo could not be decoded, or a parameter is out of range."""


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int


def watermark_box(
    *,
    image_size: tuple[int, int],
    logo_size: tuple[int, int],
    position: str,
    size_pct: float,
    margin_pct: float,
) -> Box:
    """Where the scaled logo goes on an image of ``image_size`` (pixels)."""
    if position not in POSITIONS:
        raise WatermarkError(f"Unknown position {position!r}.")
    if not 0 < size_pct <= 100 or not 0 <= margin_pct <= 25:
        raise WatermarkError("size_pct must be in (0, 100] and margin_pct in [0, 25].")
    width, height = image_size
    logo_width, logo_height = logo_size
    margin = round(width * margin_pct / 100)
    room_width = max(1, width - 2 * margin) if position != "center" else width
    room_height = max(1, height - 2 * margin) if position != "center" else height
    target_width = max(1, round(width * size_pct / 100))
    scale = min(target_width / logo_width, room_width / logo_width, room_height / logo_height)
    box_width = max(1, round(logo_width * scale))
    box_height = max(1, round(logo_height * scale))
    horizontal, vertical = _anchors(position)
    left = {"left": margin, "center": (width - box_width) // 2, "right": width - margin - box_width}[horizontal]
    top = {"top": margin, "center": (height - box_height) // 2, "bottom": height - margin - box_height}[vertical]
    return Box(left=left, top=top, width=box_width, height=box_height)


def _anchors(position: str) -> tuple[str, str]:
    if position == "center":
        return "center", "center"
    vertical, horizontal = position.split("-")
    return horizontal, vertical


def watermark_composite(
    *,
    image: bytes,
    logo: bytes,
    position: str,
    size_pct: float,
    opacity_pct: float,
    margin_pct: float,
) -> bytes:
    """``image`` with ``logo`` drawn on it, encoded in the image's own format."""
    if not 0 <= opacity_pct <= 100:
        raise WatermarkError("opacity_pct must be in [0, 100].")
    base, image_format = _decode(image, formats=_RESULT_FORMATS, what="image")
    mark, _ = _decode(logo, formats=_LOGO_FORMATS, what="logo")
    box = watermark_box(
        image_size=base.size, logo_size=mark.size, position=position, size_pct=size_pct, margin_pct=margin_pct
    )
    mark = _scaled(mark.convert("RGBA"), size=(box.width, box.height))
    if opacity_pct < 100:
        factor = opacity_pct / 100
        mark.putalpha(mark.getchannel("A").point(lambda alpha: round(alpha * factor)))
    had_alpha = base.mode in ("RGBA", "LA", "PA") or "transparency" in base.info
    canvas = base.convert("RGBA")
    canvas.alpha_composite(mark, dest=(box.left, box.top))
    return _encode(canvas if had_alpha and image_format != "JPEG" else canvas.convert("RGB"), image_format)


def _decode(data: bytes, *, formats: tuple[str, ...], what: str) -> tuple[Image.Image, str]:
    try:
        with Image.open(io.BytesIO(data), formats=formats) as opened:
            image_format = opened.format or formats[0]
            opened.load()
            return opened.copy(), image_format
    except _DECODE_ERRORS as exc:
        raise WatermarkError(f"The {what} could not be decoded.") from exc


def _scaled(mark: Image.Image, *, size: tuple[int, int]) -> Image.Image:
    if mark.size == size:
        return mark
    # Resampling in premultiplied alpha keeps the colour of fully transparent pixels out of the logo's edges
    # (otherwise a logo on a transparent black background gets a dark fringe).
    return mark.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")


def _encode(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    if image_format == "JPEG":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    elif image_format == "WEBP":
        image.save(buffer, format="WEBP", quality=JPEG_QUALITY)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()
