"""Cut the garment out of its product photo.

Three ways, cheapest first, each checked for plausibility before it is trusted:

1. the image's own alpha channel, when it has real transparency;
2. a plain background (the usual packshot): pixels that differ from the border colour, minus the background
   flooded in from the border. Gaps in the garment's outline are closed first, so a near-white shirt on a
   white background, whose fabric barely differs from the background, is kept whole as long as its seams and
   shadow draw an outline;
3. GrabCut seeded with the border as background, for textured or gradient backgrounds.

The result is an upright working copy no longer than ``WORK_LONG_SIDE`` with an 8-bit alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.base import EngineError, EngineErrorCode

WORK_LONG_SIDE = 640
_GRABCUT_LONG_SIDE = 240
_MIN_AREA, _MAX_AREA = 0.02, 0.93  # of the image: below is a speck, above is the whole photo
_UNIFORM_BORDER = 18.0  # Lab distance under which the border counts as one plain colour
_RAGGED = 9.0  # outline ratio beyond which a cut-out has lost pieces (the quality gate refuses past 9.5)


@dataclass(frozen=True)
class Cutout:
    rgb: np.ndarray  # H x W x 3 uint8, the working copy
    alpha: np.ndarray  # H x W uint8 for compositing: eroded by a pixel and softened
    mask: np.ndarray  # H x W bool, the garment's exact outline, for geometry
    scale: float  # working copy pixels per source pixel
    method: str


def _invalid(message: str) -> EngineError:
    return EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, message, retryable=False)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask, dtype=bool)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == best


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Background is what connects to the border; anything enclosed by the garment belongs to it (prints)."""
    inverse = (~mask).astype(np.uint8)
    count, labels = cv2.connectedComponents(inverse, connectivity=4)
    if count <= 1:
        return mask
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, border[border > 0])
    return ~background


def _plausible(mask: np.ndarray) -> bool:
    area = float(mask.mean())
    if not _MIN_AREA <= area <= _MAX_AREA:
        return False
    # A garment is one solid piece: an outline-only or speckled mask fills little of its own bounding box.
    ys, xs = np.nonzero(mask)
    box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
    return mask.sum() / box >= 0.25


def _border(image: np.ndarray) -> np.ndarray:
    band = max(2, round(min(image.shape[:2]) * 0.02))
    return np.concatenate(
        [
            image[:band].reshape(-1, 3),
            image[-band:].reshape(-1, 3),
            image[:, :band].reshape(-1, 3),
            image[:, -band:].reshape(-1, 3),
        ]
    )


def _plain_background(lab: np.ndarray, *, loose: bool = False) -> np.ndarray | None:
    """The pixels that differ from a plain border colour, or None when the border is not plain.

    `loose` drops the threshold to just above the border's own noise: a white shirt on a pale grey studio
    background differs from it by only a few Lab units, and the strict threshold keeps nothing but its print.
    """
    border = _border(lab).astype(np.float32)
    colour = np.median(border, axis=0)
    spread = np.percentile(np.linalg.norm(border - colour, axis=1), 90)
    if spread > _UNIFORM_BORDER:
        return None
    distance = np.linalg.norm(lab.astype(np.float32) - colour, axis=2)
    # Half of Otsu's split between background and garment, within bounds: high enough that JPEG's chroma bleed
    # does not fill narrow gaps (armpits, between the legs), low enough for pale garments.
    otsu, _ = cv2.threshold(np.clip(distance, 0, 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = float(np.clip(0.5 * otsu, 6.0, 16.0)) + 2.0 * float(spread)
    if loose:
        threshold = 2.5 + 2.0 * float(spread)
    return (distance > threshold).astype(np.uint8)


def _closed_outline(foreground: np.ndarray) -> np.ndarray:
    """Close the gaps in a faint outline (a near-white garment on white) so the flood from the border stops at it.

    Only a fallback: closing also fills acute concave corners such as armpits, which the anchors need sharp.
    The outline may be a single pixel wide, so no opening comes first.
    """
    side = max(5, round(max(foreground.shape) / 90)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    return cv2.morphologyEx(foreground, cv2.MORPH_CLOSE, kernel)


def _loose_cutout(lab: np.ndarray, *, strict: np.ndarray | None) -> np.ndarray | None:
    """The garment at the loose threshold when it is clearly more than the strict cut-out found (a pale garment
    whose print alone passed), or None to keep the strict one."""
    foreground = _plain_background(lab, loose=True)
    if foreground is None:
        return None
    cleaned = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    # Over-exposed fabric is exactly the background's colour in places: close the outline's gaps so the flood
    # from the border stops at the seams and shadows around the garment.
    side = max(7, round(max(lab.shape[:2]) / 40)) | 1
    cleaned = cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    candidate = _fill_holes(_largest_component(cleaned > 0))
    if not _plausible(candidate):
        return None
    if strict is not None and candidate.sum() < 1.25 * strict.sum():
        return None
    return candidate


def _edge_cutout(lab: np.ndarray) -> np.ndarray | None:
    """The garment as what the background's flood cannot cross: its outline drawn by the lightness gradient (the
    seams' and folds' faint shading), closed over small gaps. For a white garment on a white background, which
    differs from it in colour nowhere but casts a soft shadow all round, and whose print alone passes the colour
    thresholds."""
    lightness = cv2.GaussianBlur(lab[..., 0].astype(np.float32), (0, 0), 1.0)
    gradient = cv2.magnitude(cv2.Scharr(lightness, cv2.CV_32F, 1, 0), cv2.Scharr(lightness, cv2.CV_32F, 0, 1)) / 16.0
    band = max(2, round(min(lab.shape[:2]) * 0.02))
    border = np.concatenate(
        [gradient[:band].ravel(), gradient[-band:].ravel(), gradient[:, :band].ravel(), gradient[:, -band:].ravel()]
    )
    edges = (gradient > max(1.5, 2.0 * float(np.percentile(border, 90)))).astype(np.uint8)
    side = max(5, round(max(lab.shape[:2]) / 30)) | 1
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    # Holes first: the outline alone is a thin ring, smaller than a solid print inside it.
    candidate = _largest_component(_fill_holes(edges > 0))
    # The closing rounds the outline outwards by up to half its kernel: take that back.
    candidate = cv2.erode(candidate.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return candidate if _plausible(candidate) else None


def outline_ratio(mask: np.ndarray) -> float:
    """The outline's length over the square root of the area: about 4-6 for a top or a dress, 6-9 for trousers
    (two legs add outline), more for a cut-out with bites out of it (the quality gate's measure)."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    area = float(mask.sum())
    if not contours or area == 0:
        return 0.0
    return float(cv2.arcLength(max(contours, key=cv2.contourArea), True)) / float(np.sqrt(area))


def _grabcut(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = min(1.0, _GRABCUT_LONG_SIDE / max(height, width))
    small = cv2.resize(rgb, (max(8, round(width * scale)), max(8, round(height * scale))), interpolation=cv2.INTER_AREA)
    seeds = np.full(small.shape[:2], cv2.GC_PR_FGD, np.uint8)
    band = max(2, round(min(small.shape[:2]) * 0.03))
    seeds[:band], seeds[-band:], seeds[:, :band], seeds[:, -band:] = (cv2.GC_BGD,) * 4
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # OpenCV's GrabCut is seeded with a fixed-state RNG, so the result is deterministic.
    cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), seeds, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    foreground = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.uint8)
    foreground = cv2.resize(foreground, (width, height), interpolation=cv2.INTER_LINEAR)
    return _fill_holes(_largest_component(foreground > 0))


def _smooth_alpha(mask: np.ndarray) -> np.ndarray:
    """An anti-aliased alpha drawn from the mask's outline, smoothed along the outline.

    The warp may magnify a narrow part of the garment (the gap between trouser legs) several times; a raster
    edge would come out as a visible staircase, an outline averaged over a few pixels comes out straight.
    The outline runs through the boundary pixels' centres, so the alpha also loses the half pixel of
    background colour JPEG smears around the garment.
    """
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    alpha = np.zeros(mask.shape, np.uint8)
    if hierarchy is None:
        return alpha
    shift, window = 3, 7
    kernel = np.ones(window) / window
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        points = contour.reshape(-1, 2).astype(np.float64)
        if len(points) > 2 * window:
            padded = np.concatenate([points[-window:], points, points[:window]])
            points = np.stack([np.convolve(padded[:, i], kernel, mode="same")[window:-window] for i in (0, 1)], axis=1)
        polygon = np.round(points * (1 << shift)).astype(np.int32)
        cv2.fillPoly(alpha, [polygon], 255 if parent < 0 else 0, lineType=cv2.LINE_AA, shift=shift)
    return alpha


def _bleed(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Replace the garment's outermost pixels, and a band of background around it, by colour from further in.

    The anti-aliased alpha and the warp's interpolation reach a pixel or two beyond the outline, and a photo's
    edge pixels are part background (anti-aliasing, JPEG ringing): either would show as a light or dark seam
    wherever an edge lies over fabric, as a sleeve's underside does over the torso.
    """
    core = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    spread = cv2.GaussianBlur(core, (0, 0), 2.0)
    colour = cv2.GaussianBlur(rgb.astype(np.float32) * core[..., None], (0, 0), 2.0)
    band = (core == 0) & (spread > 1e-3)
    result = rgb.copy()
    result[band] = np.clip(colour[band] / spread[band][:, None] + 0.5, 0, 255).astype(np.uint8)
    return result


def _working_copy(image: np.ndarray) -> tuple[np.ndarray, float]:
    height, width = image.shape[:2]
    scale = min(1.0, WORK_LONG_SIDE / max(height, width))
    if scale < 1.0:
        image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image), scale


def garment_cutout(*, image: np.ndarray) -> Cutout:
    """Cut the garment out of an RGB or RGBA uint8 product photo; raises PRODUCT_IMAGE_INVALID when it cannot."""
    work, scale = _working_copy(image)
    rgb = work[..., :3]
    mask: np.ndarray | None = None
    method = ""
    if work.shape[2] == 4:
        alpha = work[..., 3] >= 128
        if _plausible(alpha):
            mask, method = _fill_holes(_largest_component(alpha)), "alpha"
        else:
            # Transparent pixels carry arbitrary colours: judge the photo as it would look on white.
            rgb = np.where(alpha[..., None], rgb, np.uint8(255)).astype(np.uint8)
    if mask is None:
        if float(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).std()) < 3.0:
            raise _invalid("The product image is blank.")
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
        foreground = _plain_background(lab)
        if foreground is not None:
            for method in ("plain-background", "closed-outline"):
                if method == "plain-background":
                    # Isolated specks (sensor noise, dust) would otherwise join the garment or stand in for it.
                    cleaned = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
                else:
                    cleaned = _closed_outline(foreground)
                candidate = _fill_holes(_largest_component(cleaned > 0))
                if _plausible(candidate):
                    mask = candidate
                    break
            loose = _loose_cutout(lab, strict=mask)
            if loose is not None:
                mask, method = loose, "faint-background"
            # A pale garment whose cut-out kept little more than its print (ragged, or far smaller than the
            # outline its shading draws) is taken by that outline instead.
            edged = _edge_cutout(lab)
            if edged is not None and (
                mask is None
                or (outline_ratio(mask) > _RAGGED and outline_ratio(edged) < outline_ratio(mask))
                or (
                    edged.sum() > 1.3 * mask.sum()
                    and float(edged[mask].mean()) >= 0.95
                    and outline_ratio(edged) <= _RAGGED
                )
            ):
                mask, method = edged, "edge-outline"
        if mask is None:
            cut = _grabcut(rgb)
            if not _plausible(cut):
                raise _invalid("No garment could be separated from the product image's background.")
            mask, method = cut, "grabcut"
    return Cutout(rgb=_bleed(rgb, mask), alpha=_smooth_alpha(mask), mask=mask, scale=scale, method=method)
