"""The quality bench's outputs: the paired SSIM, the per-category table and the contact sheets."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage.metrics import structural_similarity

from bench._quality_measures import THRESHOLDS, Masks

# The papers' protocol: 384 x 512 (width x height), Gaussian window sigma 1.5.
SSIM_SIZE = (384, 512)
PANEL = (240, 320)  # width, height of one image on a contact sheet
ROWS_PER_SHEET = 8
TEXT_HEIGHT = 44


def paired_ssim(*, result: np.ndarray, truth: np.ndarray) -> float:
    """SSIM as the try-on papers compute it: both images resized to 384 x 512 (bicubic), an 11 x 11 Gaussian
    window of sigma 1.5 (scikit-image truncates at 3.5 sigma: radius 5), K1 = 0.01, K2 = 0.03, population
    covariances, data range 255, the mean over the three RGB channels. The papers' PyTorch ports (pytorch-ssim,
    pytorch-msssim, torchmetrics) use the same window and constants; they differ only in how they treat the
    5-pixel border, a difference in the third decimal."""

    def prepare(image: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(image).resize(SSIM_SIZE, Image.Resampling.BICUBIC), dtype=np.float64)

    return float(
        structural_similarity(
            prepare(result),
            prepare(truth),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            channel_axis=2,
            data_range=255,
        )
    )


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def summarise(records: list[dict]) -> dict[str, dict]:
    """Per category: n, refused by code, the median of each measure over rendered results, flagged count."""
    summary: dict[str, dict] = {}
    for category in sorted({r["category"] for r in records}):
        rows = [r for r in records if r["category"] == category]
        rendered = [r for r in rows if r["refused"] is None]
        medians = {
            name: _median([r["measures"][name] for r in rendered if r["measures"].get(name) is not None])
            for name in (*THRESHOLDS, "changed")
        }
        flagged_by = Counter(name for r in rendered for name in r["flags"])
        summary[category] = {
            "n": len(rows),
            "rendered": len(rendered),
            "refused": dict(Counter(r["refused"] for r in rows if r["refused"] is not None)),
            "flagged": sum(1 for r in rendered if r["flags"]),
            "clean": sum(1 for r in rendered if not r["flags"]),
            "flagged_by": dict(flagged_by),
            "medians": medians,
        }
    return summary


def table(summary: dict[str, dict]) -> str:
    names = [*THRESHOLDS]
    header = ["category", "n", "refused", "flagged", "clean", *names]
    limits = ["", "", "", "", "", *(f"{'<=' if d == 'max' else '>='}{v:g}" for d, v in THRESHOLDS.values())]
    rows = [header, limits]
    for category, s in summary.items():
        refused = ",".join(f"{code}:{n}" for code, n in sorted(s["refused"].items())) or "0"
        medians = ["-" if s["medians"][n] is None else f"{s['medians'][n]:g}" for n in names]
        rows.append([category, str(s["n"]), refused, str(s["flagged"]), str(s["clean"]), *medians])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(2, "  ".join("-" * w for w in widths))
    lines.append("(medians over rendered results; second row: the threshold a result must meet; flagged: any crossed)")
    for category, s in summary.items():
        if s["flagged_by"]:
            by = ", ".join(f"{n} {c}" for n, c in sorted(s["flagged_by"].items(), key=lambda kv: -kv[1]))
            lines.append(f"{category} flagged by: {by}")
    return "\n".join(lines)


def overlay(*, result: np.ndarray, masks: Masks, face_box: tuple[int, int, int, int] | None) -> np.ndarray:
    """The result, dimmed, with what the measures saw: changed (green), spill (red), holes (blue), old garment
    left (yellow), the region to cover (cyan outline) and the face box (magenta)."""
    import cv2

    canvas = (result.astype(np.float32) * 0.45).astype(np.uint8)
    for mask, colour in (
        (masks.changed, (40, 200, 60)),
        (masks.residue, (240, 220, 0)),
        (masks.holes, (40, 90, 255)),
        (masks.spill, (255, 30, 30)),
    ):
        canvas[mask] = colour
    contours, _ = cv2.findContours(masks.region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(canvas, contours, -1, (0, 230, 230), 3)
    if face_box is not None:
        cv2.rectangle(canvas, face_box[:2], face_box[2:], (255, 0, 255), 3)
    return canvas


def _fit(image: np.ndarray | None) -> Image.Image:
    panel = Image.new("RGB", PANEL, (250, 250, 250))
    if image is None:
        return panel
    im = Image.fromarray(image)
    im.thumbnail(PANEL, Image.Resampling.LANCZOS)
    panel.paste(im, ((PANEL[0] - im.width) // 2, (PANEL[1] - im.height) // 2))
    return panel


def _caption(record: dict) -> tuple[str, str]:
    title = f"{record['person']} x {record['garment']} ({record['category']})"
    if record["refused"] is not None:
        return title, f"REFUSED {record['refused']}: {record['message']}"[:150]
    m = record["measures"]

    def show(name: str) -> str:
        value = m.get(name)
        text = "-" if value is None else f"{value:g}"
        return f"{name}={text}{'!' if name in record['flags'] else ''}"

    names = list(m) if record["category"] == "paired" else list(THRESHOLDS)
    return title, "  ".join(show(n) for n in names)


def contact_sheets(*, rows: list[tuple[dict, list[np.ndarray | None]]], out: Path, stem: str) -> list[Path]:
    """PNG sheets of ~8 rows: person | product | result | what the measures saw, the figures under each row
    (a measure past its threshold ends with '!')."""
    font = ImageFont.load_default(size=13)
    paths = []
    for start in range(0, len(rows), ROWS_PER_SHEET):
        chunk = rows[start : start + ROWS_PER_SHEET]
        panels = max(len(images) for _, images in chunk)
        sheet = Image.new("RGB", (panels * PANEL[0], len(chunk) * (PANEL[1] + TEXT_HEIGHT)), "white")
        draw = ImageDraw.Draw(sheet)
        for i, (record, images) in enumerate(chunk):
            y = i * (PANEL[1] + TEXT_HEIGHT)
            for j, image in enumerate(images):
                sheet.paste(_fit(image), (j * PANEL[0], y))
            title, figures = _caption(record)
            colour = (200, 0, 0) if record["refused"] is None and record["flags"] else (0, 0, 0)
            draw.text((4, y + PANEL[1] + 3), title, fill=(0, 0, 0), font=font)
            draw.text((4, y + PANEL[1] + 22), figures, fill=colour, font=font)
        path = out / f"{stem}_{start // ROWS_PER_SHEET + 1:02d}.png"
        sheet.save(path)
        paths.append(path)
    return paths
