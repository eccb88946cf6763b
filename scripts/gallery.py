"""`make gallery`: before/after images of the local engine, written to docs/gallery/ and listed in docs/engines.md.

People: the two real photos that ship inside wheels (scikit-image's astronaut, matplotlib's Grace Hopper) and
the synthetic mannequin, all through the real pipeline (MediaPipe included). Garments: the synthetic t-shirt,
long-sleeve top, trousers and dress, sent as JPEG product photos the way the API stores them, and one on-model
product photo (which the engine refuses). Only the table
between the gallery markers in docs/engines.md is rewritten; the prose around it is kept.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engines.base import Category, EngineError, TryOnRequest  # noqa: E402
from engines.local import LocalEngine  # noqa: E402
from vision.synthetic import (  # noqa: E402
    SyntheticGarment,
    synthetic_dress,
    synthetic_long_sleeve,
    synthetic_mannequin,
    synthetic_trousers,
    synthetic_tshirt,
)

GALLERY = ROOT / "docs" / "gallery"
DOC = ROOT / "docs" / "engines.md"
START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"
PANEL_HEIGHT = 360
JPEG_QUALITY = 78


def people() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    from skimage import data

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        grace = np.asarray(Image.open(handle).convert("RGB"))
    return {"astronaut": data.astronaut(), "grace-hopper": grace, "mannequin": synthetic_mannequin().image}


def garments() -> dict[str, SyntheticGarment]:
    return {
        "t-shirt": synthetic_tshirt(pattern="logo"),
        "long-sleeve": synthetic_long_sleeve(pattern="stripes"),
        "trousers": synthetic_trousers(pattern="denim"),
        "dress": synthetic_dress(pattern="dots"),
    }


def encode(image: np.ndarray, *, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def panel(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    return cv2.resize(image, (round(width * PANEL_HEIGHT / height), PANEL_HEIGHT), interpolation=cv2.INTER_AREA)


def refusal(size: tuple[int, int], error: EngineError) -> np.ndarray:
    width, height = size
    card = np.full((height, width, 3), 236, np.uint8)
    lines = [str(error.code), *re.findall(r".{1,34}(?:\s|$)", error.message)]
    for i, line in enumerate(lines):
        cv2.putText(card, line.strip(), (12, 40 + 26 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (60, 60, 60), 1, cv2.LINE_AA)
    return card


def main() -> None:
    GALLERY.mkdir(parents=True, exist_ok=True)
    engine = LocalEngine()
    rows = []
    # The last row is a product photo that shows a model (Grace Hopper in uniform, sent as the "jacket"): the
    # engine refuses it rather than paste her onto the shopper.
    products = [(name, encode(g.image), g.category) for name, g in garments().items()]
    products.append(("on-model-photo", encode(people()["grace-hopper"]), Category.OUTERWEAR))
    for garment_name, product, category in products:
        cells = []
        for person_name, person in people().items():
            before = panel(person)
            try:
                result = engine.run(
                    TryOnRequest(person_image=encode(person), garment_images=(product,), category=category)
                )
                after = panel(np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB")))
            except EngineError as error:
                after = refusal((before.shape[1], before.shape[0]), error)
            gutter = np.full((PANEL_HEIGHT, 6, 3), 255, np.uint8)
            name = f"{person_name}-{garment_name}.jpg"
            (GALLERY / name).write_bytes(encode(np.hstack([before, gutter, after]), quality=JPEG_QUALITY))
            cells.append(f"![{person_name} wearing the {garment_name}](gallery/{name})")
            print(f"gallery: wrote docs/gallery/{name}")
        rows.append(f"| {garment_name} | " + " | ".join(cells) + " |")
    sheet = np.hstack([panel(g.image) for g in garments().values()])
    (GALLERY / "garments.jpg").write_bytes(encode(sheet, quality=JPEG_QUALITY))
    table = "\n".join(
        [
            START,
            "![The synthetic garments: t-shirt, long-sleeve top, trousers, dress](gallery/garments.jpg)",
            "",
            "| garment | astronaut (scikit-image) | Grace Hopper (matplotlib) | synthetic mannequin |",
            "|---|---|---|---|",
            *rows,
            END,
        ]
    )
    text = DOC.read_text() if DOC.exists() else "# Try-on engines\n\n## local\n\n"
    if START in text and END in text:
        text = text[: text.index(START)] + table + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    DOC.write_text(text)
    print(f"gallery: updated {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
