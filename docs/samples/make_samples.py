"""Rebuild the sample photos in this folder: `.venv/bin/python docs/samples/make_samples.py`.

`person.jpg` is the portrait of Grace Hopper that matplotlib ships as sample data (an official U.S. Navy
photograph, public domain), re-encoded; `tshirt.jpg` is a t-shirt drawn here with Pillow on a white background,
the way a packshot looks. See README.md in this folder for the licences. Both are written deterministically, so
running the script again reproduces the committed files.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
JPEG_QUALITY = 85
MAX_BYTES = 100 * 1024


def person() -> Image.Image:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        return Image.open(handle).convert("RGB")


def tshirt() -> Image.Image:
    """A short-sleeved tee, front view, 600 x 600: body, two sleeves, a round neckline and a stripe."""
    size = 600
    # Drawn at 2x and scaled down: Pillow's polygons are not anti-aliased.
    scale = 2
    canvas = Image.new("RGB", (size * scale, size * scale), "white")
    draw = ImageDraw.Draw(canvas)

    def pts(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * scale, y * scale) for x, y in points]

    body_colour, seam_colour, stripe_colour = (38, 92, 170), (24, 60, 115), (240, 240, 240)
    # A round front neckline, right to left, so the background reaches into it from the top edge.
    neckline = [(300 + 45 * math.cos(t), 95 + 40 * math.sin(t)) for t in (math.pi * i / 16 for i in range(17))]
    left = [(185, 112), (90, 215), (125, 285), (190, 228)]  # shoulder, sleeve cuff, armpit
    hem = [(185, 520), (415, 520)]
    right = [(410, 228), (475, 285), (510, 215), (415, 112)]  # armpit, sleeve cuff, shoulder
    outline = [*left, *hem, *right, *neckline]
    draw.polygon(pts(outline), fill=body_colour, outline=seam_colour, width=3 * scale)
    # The ribbed collar edge and the sleeve hems, so the garment reads as a t-shirt even in a thumbnail.
    draw.line(
        pts([(300 + 51 * math.cos(t), 95 + 46 * math.sin(t)) for t in (math.pi * i / 16 for i in range(17))]),
        fill=seam_colour,
        width=5 * scale,
        joint="curve",
    )
    draw.line(pts([(90, 215), (125, 285)]), fill=seam_colour, width=5 * scale)
    draw.line(pts([(510, 215), (475, 285)]), fill=seam_colour, width=5 * scale)
    draw.rectangle(pts([(205, 300), (395, 328)]), fill=stripe_colour)
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


def save(image: Image.Image, name: str) -> None:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        raise SystemExit(f"{name} is {len(data)} bytes, over the {MAX_BYTES} byte budget")
    (HERE / name).write_bytes(data)
    print(f"{name}: {image.width}x{image.height}, {len(data)} bytes")


if __name__ == "__main__":
    save(person(), "person.jpg")
    save(tshirt(), "tshirt.jpg")
