"""The quality bench's measures of one try-on result held against the person photo it came from.

Every measure is a number with a threshold (THRESHOLDS); a result is *flagged* when any threshold is crossed.
"Changed" means: differs from the person photo by more than CHANGED_DELTA_E (CIE76, after a light blur) once the
photo went through the same JPEG encoding as the result, so compression noise of untouched areas is not counted.
Pure numpy/OpenCV/scikit-image: tests drive it with constructed images.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.color import deltaE_ciede2000

from bench._quality_person import PersonAnalysis, body_regions, category_region, skin_mask, to_lab, zone_rows

CHANGED_DELTA_E = 8.0
# The silhouette's edge is soft and clothes sit off the skin: spill is counted beyond this margin (of the height).
SPILL_MARGIN = 0.01
# Components (fragments, holes) smaller than this share of the image are noise, not pieces.
MIN_PIECE = 2e-4
# A pixel of the person photo belongs to the old garment when it is this close (ΔE76) to one of its colours.
OLD_GARMENT_DELTA_E = 12.0
# (direction, limit): "max" flags values above the limit, "min" values below it.
THRESHOLDS: dict[str, tuple[str, float]] = {
    "spill": ("max", 0.02),  # share of the changed pixels outside the (dilated) silhouette
    "face": ("max", 0.002),  # share of the face box changed
    "fragments": ("max", 1),  # pieces beyond the first (one extra tolerated: an arm across the garment)
    "coverage": ("min", 0.6),  # share of the category's body region changed
    "holes": ("max", 0.01),  # enclosed unchanged person pixels, share of the changed area
    "residue": ("max", 0.15),  # share of the old garment (skin excepted) left unchanged
    "fidelity_de": ("max", 15.0),  # CIEDE2000 from the product's main colours to the result garment's nearest
    "fidelity_hist": ("max", 0.6),  # Bhattacharyya distance of their L*a*b* histograms
}


@dataclass(frozen=True)
class Masks:
    """The pixel sets behind the numbers, for the contact sheets."""

    changed: np.ndarray
    spill: np.ndarray
    holes: np.ndarray
    residue: np.ndarray
    region: np.ndarray


def jpeg_roundtrip(image: np.ndarray, *, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def changed_mask(*, person: np.ndarray, result: np.ndarray, jpeg_quality: int | None) -> np.ndarray:
    """Pixels of the result that differ visibly from the person photo (see the module docstring)."""
    reference = person if jpeg_quality is None else jpeg_roundtrip(person, quality=jpeg_quality)
    a = to_lab(cv2.GaussianBlur(reference, (3, 3), 0))
    b = to_lab(cv2.GaussianBlur(result, (3, 3), 0))
    changed = np.linalg.norm(a - b, axis=2) > CHANGED_DELTA_E
    kernel = np.ones((3, 3), np.uint8)
    return cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, kernel) > 0


def _components(mask: np.ndarray, *, min_area: int) -> tuple[int, np.ndarray]:
    """Number of 8-connected components of at least min_area pixels, and their union."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    return len(keep), np.isin(labels, keep) if keep else np.zeros(mask.shape, bool)


def _palette(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Three k-means colours (fixed seed: runs are reproducible) and their shares."""
    samples = lab.reshape(-1, 3).astype(np.float32)
    if len(samples) > 20000:
        samples = samples[np.linspace(0, len(samples) - 1, 20000).astype(int)]
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(samples, 3, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    return centres, np.bincount(labels.ravel(), minlength=3) / len(samples)


def main_colours(*, lab: np.ndarray, share: float) -> np.ndarray:
    """The k-means centres (k=3, fixed seed) holding at least `share` of the L*a*b* pixels: the colours of a
    garment (the person's old one on its region, or the product's)."""
    pixels = lab.reshape(-1, 3).astype(np.float32)
    if len(pixels) < 50:
        return np.zeros((0, 3), np.float32)
    if len(pixels) > 20000:
        pixels = pixels[np.linspace(0, len(pixels) - 1, 20000).astype(int)]
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(pixels, 3, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=3) / len(pixels)
    return centres[shares >= share]


def _near(lab: np.ndarray, colours: np.ndarray, delta_e: float) -> np.ndarray:
    """Pixels within delta_e (CIE76) of any of the colours."""
    if not len(colours):
        return np.zeros(lab.shape[:2], bool)
    return np.min(np.linalg.norm(lab[..., None, :] - colours[None, None], axis=3), axis=2) < delta_e


def _histogram(lab_pixels: np.ndarray) -> np.ndarray:
    """Normalised 4 x 12 x 12 L*a*b* histogram: coarse in lightness (the result is re-shaded), finer in chroma."""
    hist, _ = np.histogramdd(lab_pixels.reshape(-1, 3), bins=(4, 12, 12), range=((0, 100), (-80, 80), (-80, 80)))
    hist = hist.astype(np.float32)
    return hist / max(float(hist.sum()), 1.0)


def fidelity(*, product_lab: np.ndarray, result_lab: np.ndarray) -> tuple[float | None, float | None]:
    """(palette CIEDE2000, histogram Bhattacharyya distance) between two sets of L*a*b* pixels.

    The palette distance takes each of the product's three main colours, weighted by its share, to the nearest of
    the result's: a print whose colours all come through scores low even when their proportions shift."""
    if len(product_lab) < 50 or len(result_lab) < 50:
        return None, None
    product, shares = _palette(product_lab)
    result, _ = _palette(result_lab)
    pairs = deltaE_ciede2000(np.repeat(product, 3, axis=0), np.tile(result, (3, 1))).reshape(3, 3)
    de = float((pairs.min(axis=1) * shares).sum())
    distance = cv2.compareHist(_histogram(product_lab), _histogram(result_lab), cv2.HISTCMP_BHATTACHARYYA)
    return round(de, 2), round(float(distance), 3)


def garment_pixels(*, product: np.ndarray) -> np.ndarray:
    """The product photo's garment: what differs from the border's (plain) background colour, largest pieces,
    holes filled, eroded off its anti-aliased edge."""
    lab = to_lab(product)
    band = max(2, min(product.shape[:2]) // 50)
    border = np.concatenate(
        [
            lab[:band].reshape(-1, 3),
            lab[-band:].reshape(-1, 3),
            lab[:, :band].reshape(-1, 3),
            lab[:, -band:].reshape(-1, 3),
        ]
    )
    background = np.median(border, axis=0)
    mask = np.linalg.norm(lab - background, axis=2) > 10.0
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, bool)
    largest = stats[1:, cv2.CC_STAT_AREA].max()
    keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= 0.05 * largest]
    filled = ndimage.binary_fill_holes(np.isin(labels, keep))
    return cv2.erode(filled.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0


def measure(
    *,
    person: np.ndarray,
    result: np.ndarray,
    analysis: PersonAnalysis,
    category: str,
    product_lab: np.ndarray,
    jpeg_quality: int | None,
) -> tuple[dict[str, float | int | None], Masks]:
    """All measures of one result (RGB uint8, the person's size). `product_lab`: the product's garment pixels."""
    height, width = person.shape[:2]
    area = height * width
    min_piece = max(64, round(MIN_PIECE * area))
    changed = changed_mask(person=person, result=result, jpeg_quality=jpeg_quality)
    n_changed = int(changed.sum())
    regions = body_regions(keypoints=analysis.keypoints, silhouette=analysis.silhouette)

    margin = max(3, round(SPILL_MARGIN * height))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    near_person = cv2.dilate(analysis.silhouette.astype(np.uint8), kernel) > 0
    spill = changed & ~near_person

    face_area = int(analysis.face.sum())
    face = (changed & analysis.face).sum() / face_area if face_area else None

    closed = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)) > 0
    pieces, _ = _components(closed, min_area=min_piece)

    # Unchanged pixels that already have one of the product's colours read as the new garment (a white top on a
    # white tank): they count as covered, not as holes or residue.
    product_colours = main_colours(lab=product_lab, share=0.1)
    looks_new = _near(analysis.lab, product_colours, OLD_GARMENT_DELTA_E) & ~changed

    region = category_region(regions=regions, category=category)
    region_area = int(region.sum())
    coverage = ((changed | looks_new) & region).sum() / region_area if region_area >= min_piece else None

    enclosed = ndimage.binary_fill_holes(closed) & ~closed
    enclosed &= analysis.silhouette & ~regions["forearms"] & ~analysis.face & ~looks_new
    _, holes = _components(enclosed, min_area=min_piece)

    top, bottom = zone_rows(keypoints=analysis.keypoints, category=category, height=height)
    zone = np.zeros((height, width), bool)
    zone[top:bottom] = True
    # Arms and skin are excepted; for tops only the hands, since old sleeves on the arms are residue.
    zone &= analysis.silhouette & ~analysis.face & ~analysis.skin
    zone &= ~regions["hands"] if category == "tops" else ~regions["arms"]
    colours = main_colours(lab=analysis.lab[region & ~analysis.skin], share=0.25)
    residue_value, residue = None, np.zeros((height, width), bool)
    if len(colours):
        old = zone & _near(analysis.lab, colours, OLD_GARMENT_DELTA_E) & ~looks_new
        if old.sum() >= min_piece:
            residue = old & ~changed
            residue_value = residue.sum() / old.sum()

    result_lab = to_lab(result)
    # The result's garment: changed pixels of the category's zone, restored skin left out.
    garment = changed & zone
    skin_now = np.zeros_like(garment)
    if analysis.face_box is not None:
        skin_now = skin_mask(lab=result_lab, face_box=analysis.face_box, silhouette=near_person)
    fidelity_de, fidelity_hist = fidelity(product_lab=product_lab, result_lab=result_lab[garment & ~skin_now])

    values: dict[str, float | int | None] = {
        "spill": round(spill.sum() / n_changed, 4) if n_changed else 0.0,
        "face": None if face is None else round(float(face), 4),
        "fragments": max(0, pieces - 1),
        "coverage": None if coverage is None else round(float(coverage), 3),
        "holes": round(holes.sum() / n_changed, 4) if n_changed else 0.0,
        "residue": None if residue_value is None else round(float(residue_value), 3),
        "fidelity_de": fidelity_de,
        "fidelity_hist": fidelity_hist,
        "changed": round(n_changed / area, 4),
    }
    return values, Masks(changed=changed, spill=spill, holes=holes, residue=residue, region=region)


def flags(values: dict[str, float | int | None]) -> list[str]:
    """The measures whose threshold this result crosses (missing values never flag)."""
    crossed = []
    for name, (direction, limit) in THRESHOLDS.items():
        value = values.get(name)
        if value is None:
            continue
        if (direction == "max" and value > limit) or (direction == "min" and value < limit):
            crossed.append(name)
    return crossed
