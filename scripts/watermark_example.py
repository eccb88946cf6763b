"""The watermark pictures: the dashboard's preview sample and the before/after image of docs/watermark.md.

    .venv/bin/python scripts/watermark_example.py      (also run by `make gallery`)

1. Runs the local engine, through its public interface, on the shipped sample photo and t-shirt
   (docs/samples/person.jpg, docs/samples/tshirt.jpg: the quickstart's inputs) and keeps the result, downscaled,
   as the sample the dashboard preview draws logos on (watermark/static/watermark/sample-result.jpg). Beside it,
   sample-result.json records how it was made: the engine and version, the inputs and their SHA-256, and the
   sample's own SHA-256, so a test can tell that the picture is this run's output and not an edited file.
2. Draws a demo logo with transparency (docs/watermark/demo-logo.png).
3. Composites it with the very function the worker uses and writes the result without and with the watermark
   side by side (docs/watermark/before-after.jpg).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watermark.compositing import watermark_composite  # noqa: E402

SAMPLE = ROOT / "watermark" / "static" / "watermark" / "sample-result.jpg"
PROVENANCE = SAMPLE.with_suffix(".json")
PERSON = ROOT / "docs" / "samples" / "person.jpg"
GARMENT = ROOT / "docs" / "samples" / "tshirt.jpg"
DOCS = ROOT / "docs" / "watermark"
SAMPLE_WIDTH = 480
GUTTER = 8


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sample_result() -> tuple[bytes, dict[str, object]]:
    """The local engine's result for the shipped photo and t-shirt, downscaled, and the record of that run."""
    from engines.base import Category, TryOnRequest
    from engines.local import LocalEngine

    person, garment = PERSON.read_bytes(), GARMENT.read_bytes()
    result = LocalEngine().run(TryOnRequest(person_image=person, garment_images=(garment,), category=Category.TOPS))
    with Image.open(io.BytesIO(result.image)) as image:
        height = round(image.height * SAMPLE_WIDTH / image.width)
        sample = _jpeg(image.convert("RGB").resize((SAMPLE_WIDTH, height), Image.Resampling.LANCZOS), quality=84)
    provenance: dict[str, object] = {
        "engine": result.engine,
        "engine_version": result.engine_version,
        "person": str(PERSON.relative_to(ROOT)),
        "person_sha256": _sha256(person),
        "garment": str(GARMENT.relative_to(ROOT)),
        "garment_sha256": _sha256(garment),
        "category": str(Category.TOPS),
        "result_size": [image.width, image.height],
        "sample_size": [SAMPLE_WIDTH, height],
        "sample_sha256": _sha256(sample),
    }
    return sample, provenance


def demo_logo() -> bytes:
    """A white pill with dark lettering on a transparent background."""
    width, height = 420, 120
    logo = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle(
        (4, 4, width - 4, height - 4), radius=56, fill=(255, 255, 255, 235), outline=(30, 30, 30, 255), width=6
    )
    font = ImageFont.load_default(size=58)
    draw.text((width / 2, height / 2), "MY SHOP", font=font, fill=(30, 30, 30, 255), anchor="mm")
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def side_by_side(before: bytes, after: bytes) -> bytes:
    with Image.open(io.BytesIO(before)) as left, Image.open(io.BytesIO(after)) as right:
        sheet = Image.new("RGB", (left.width + GUTTER + right.width, left.height), (255, 255, 255))
        sheet.paste(left.convert("RGB"), (0, 0))
        sheet.paste(right.convert("RGB"), (left.width + GUTTER, 0))
        return _jpeg(sheet, quality=80)


def main() -> None:
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    DOCS.mkdir(parents=True, exist_ok=True)
    sample, provenance = sample_result()
    SAMPLE.write_bytes(sample)
    PROVENANCE.write_text(json.dumps(provenance, indent=2) + "\n")
    print(f"watermark: wrote {SAMPLE.relative_to(ROOT)} ({len(sample) // 1024} KiB) and {PROVENANCE.name}")
    logo = demo_logo()
    (DOCS / "demo-logo.png").write_bytes(logo)
    after = watermark_composite(
        image=sample, logo=logo, position="bottom-right", size_pct=30, opacity_pct=80, margin_pct=3
    )
    (DOCS / "before-after.jpg").write_bytes(side_by_side(sample, after))
    print("watermark: wrote docs/watermark/demo-logo.png and docs/watermark/before-after.jpg")


if __name__ == "__main__":
    main()
