"""Landmarks on a garment's cut-out: where its shoulders, armpits, hem, cuffs, waist and crotch are.

Everything comes from the outline's convexity defects (the concave corners a flat garment always has: armpits,
armholes, crotch) and from row scans. Left/right are the image's. Definitions, which the synthetic garments
follow exactly:

- armpit: the deepest point of the concavity between a sleeve's underside and the body's side; for a sleeveless
  garment, the lower end of the armhole's concavity;
- shoulder: with sleeves, the top of the outline straight above the armpit (the seam of a set-in sleeve);
  without, the upper end of the armhole's concavity (the strap's outer corner);
- cuff: the middle of the sleeve's far edge, with its two corners; hem corners: the ends of the lowest full row
  of the body; waist corners: the ends of the top row of a bottom; crotch: the deepest point between the legs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.base import Category, EngineError, EngineErrorCode


@dataclass(frozen=True)
class Sleeve:
    shoulder: np.ndarray
    armpit: np.ndarray
    cuff_upper: np.ndarray  # the cuff corner on the shoulder's side of the sleeve
    cuff_lower: np.ndarray
    region: np.ndarray  # bool mask of the sleeve's pixels

    @property
    def cuff(self) -> np.ndarray:
        return (self.cuff_upper + self.cuff_lower) / 2


@dataclass(frozen=True)
class TopAnchors:
    shoulder_l: np.ndarray
    shoulder_r: np.ndarray
    armpit_l: np.ndarray
    armpit_r: np.ndarray
    hem_l: np.ndarray
    hem_r: np.ndarray
    sleeve_l: Sleeve | None
    sleeve_r: Sleeve | None

    def as_dict(self) -> dict[str, tuple[float, float]]:
        points = {
            name: getattr(self, name) for name in ("shoulder_l", "shoulder_r", "armpit_l", "armpit_r", "hem_l", "hem_r")
        }
        for name, sleeve in (("cuff_l", self.sleeve_l), ("cuff_r", self.sleeve_r)):
            if sleeve is not None:
                points[name] = sleeve.cuff
        return {name: (float(p[0]), float(p[1])) for name, p in points.items()}


@dataclass(frozen=True)
class BottomAnchors:
    waist_l: np.ndarray
    waist_r: np.ndarray
    hem_l: np.ndarray  # outer hem corner of the left leg, or the skirt's left hem corner
    hem_r: np.ndarray
    crotch: np.ndarray | None  # None for a skirt
    hem_l_inner: np.ndarray | None
    hem_r_inner: np.ndarray | None

    def as_dict(self) -> dict[str, tuple[float, float]]:
        names = ("waist_l", "waist_r", "hem_l", "hem_r", "crotch", "hem_l_inner", "hem_r_inner")
        return {n: (float(p[0]), float(p[1])) for n in names if (p := getattr(self, n)) is not None}


@dataclass(frozen=True)
class _Outline:
    contour: np.ndarray  # N x 2 int
    defects: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]  # start, end, far, depth
    indices: list[tuple[int, int, int]]  # start, end, far as contour indices
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 inclusive

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0] + 1

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1] + 1

    @property
    def centre_x(self) -> int:
        return (self.box[0] + self.box[2]) // 2


def _outline(mask: np.ndarray) -> _Outline:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        raise EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, "The garment has no outline.", retryable=False)
    contour = max(contours, key=cv2.contourArea)
    hull = np.sort(cv2.convexHull(contour, returnPoints=False).ravel())
    raw = cv2.convexityDefects(contour, hull.reshape(-1, 1)) if len(hull) > 3 else None
    points = contour.reshape(-1, 2)
    defects = (
        []
        if raw is None
        else [
            (points[s].astype(float), points[e].astype(float), points[f].astype(float), d / 256.0)
            for s, e, f, d in raw.reshape(-1, 4)
        ]
    )
    indices = [] if raw is None else [(int(s), int(e), int(f)) for s, e, f, _ in raw.reshape(-1, 4)]
    x, y, w, h = cv2.boundingRect(contour)
    return _Outline(contour=points, defects=defects, indices=indices, box=(x, y, x + w - 1, y + h - 1))


def _run_at(row: np.ndarray, x: int) -> tuple[int, int] | None:
    """Ends of the run of garment pixels through column x of one row."""
    if not row[x]:
        return None
    gaps_left = np.flatnonzero(~row[:x])
    gaps_right = np.flatnonzero(~row[x:])
    left = int(gaps_left[-1]) + 1 if gaps_left.size else 0
    right = x + int(gaps_right[0]) - 1 if gaps_right.size else row.size - 1
    return left, right


def _runs_through(mask: np.ndarray, x: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every row: whether column x is garment, and the ends of the run of garment pixels through it."""
    width = mask.shape[1]
    gaps_left = ~mask[:, :x]
    gaps_right = ~mask[:, x:]
    left = np.where(gaps_left.any(axis=1), x - np.argmax(gaps_left[:, ::-1], axis=1), 0)
    right = np.where(gaps_right.any(axis=1), x + np.argmax(gaps_right, axis=1) - 1, width - 1)
    return mask[:, x], left, right


def lowest_full_run(mask: np.ndarray, *, x: int, top: int) -> tuple[int, int, int]:
    """The lowest row (below `top`) whose run through column x is at least 80 % of the usual width there.

    The run's ends are the outermost over that row and the three above it: a last row frayed by JPEG noise
    must not pull a hem corner inwards.
    """
    present, left, right = _runs_through(mask, x)
    present = present.copy()  # a view of the mask: clearing it in place would cut the garment itself
    present[:top] = False
    rows = np.flatnonzero(present)
    if rows.size == 0:
        raise EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, "The garment has no body.", retryable=False)
    widths = right[rows] - left[rows]
    lowest = int(rows[widths >= 0.8 * float(np.median(widths))].max())
    near = rows[(rows >= lowest - 3) & (rows <= lowest)]
    return int(left[near].min()), int(right[near].max()), lowest


def _side(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = b - a
    return d[0] * (points[..., 1] - a[1]) - d[1] * (points[..., 0] - a[0])


def sleeve_region(
    mask: np.ndarray, *, shoulder: np.ndarray, armpit: np.ndarray, underside: np.ndarray
) -> Sleeve | None:
    """The sleeve outward of the shoulder seam (shoulder to armpit) and above its underside (armpit onwards)."""
    ys, xs = np.nonzero(mask)
    points = np.stack([xs, ys], axis=1).astype(np.float64)
    inside = np.sign(_side(points, shoulder, armpit)) == np.sign(_side(underside, shoulder, armpit))
    inside &= _side(points, armpit, underside) * np.sign(_side(shoulder, armpit, underside)) >= -1.0
    if inside.sum() < 0.01 * len(points):
        return None
    region = np.zeros_like(mask)
    region[ys[inside], xs[inside]] = True
    _, labels, stats, _ = cv2.connectedComponentsWithStats(region.astype(np.uint8), connectivity=8)
    region = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    root = (shoulder + armpit) / 2
    # The cuff is the edge of the sleeve's (simplified) convex hull that lies farthest from the shoulder seam.
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    size = float(np.linalg.norm(hull.reshape(-1, 2) - root, axis=1).max())
    corners = cv2.approxPolyDP(hull, max(1.5, 0.05 * size), closed=True).reshape(-1, 2).astype(np.float64)
    ends = np.roll(corners, -1, axis=0)
    far = int(np.argmax(np.linalg.norm((corners + ends) / 2 - root, axis=1)))
    corner_a, corner_b = corners[far], ends[far]
    axis = (corner_a + corner_b) / 2 - root
    normal = np.array([-axis[1], axis[0]])
    side_a = np.dot(corner_a - root, normal)
    upper, lower = (corner_a, corner_b) if side_a * np.dot(shoulder - root, normal) > 0 else (corner_b, corner_a)
    return Sleeve(shoulder=shoulder, armpit=armpit, cuff_upper=upper, cuff_lower=lower, region=region)


def _top_side(mask: np.ndarray, outline: _Outline, *, side: int) -> tuple[np.ndarray, np.ndarray, Sleeve | None]:
    """Shoulder, armpit and sleeve on one side (-1 image-left, +1 image-right).

    The concavities are looked for in the upper part of that side's half: on the whole outline a hull edge can
    bridge from one cuff to the other and hide both armpits, or from a strap to the hem and report the waist.
    """
    x0, y0, x1, _ = outline.box
    width, height = outline.width, outline.height
    quarter = mask.copy()
    if side < 0:
        quarter[:, outline.centre_x + 1 :] = False
    else:
        quarter[:, : outline.centre_x] = False
    quarter[int(y0 + 0.6 * height) :] = False
    sleeve_defect: tuple[float, np.ndarray, np.ndarray] | None = None
    armhole_defect: tuple[np.ndarray, np.ndarray] | None = None
    outline_q = _outline(quarter)
    count = len(outline_q.contour)
    for (start, end, far, depth), (i_start, i_end, i_far) in zip(outline_q.defects, outline_q.indices, strict=True):
        if side * (far[0] - outline.centre_x) < 0.1 * width or depth < 0.03 * width:
            continue
        if any(abs(p[0] - outline.centre_x) <= 2 and p[1] < y0 + 0.4 * height for p in (start, end)):
            continue  # half of the neckline, closed by the cut down the middle
        upper, lower = (start, end) if start[1] < end[1] else (end, start)
        if upper[1] > far[1] - 0.02 * height:
            # Both hull corners level with or below the concavity: a sleeve's underside meets the body here.
            if sleeve_defect is None or depth > sleeve_defect[0]:
                # A point a quarter of the way along the outline from the armpit towards the sleeve's hull
                # corner lies on the sleeve's underside, near enough to the armpit to be on its straight part.
                direction = -1 if side * (start[0] - end[0]) > 0 else 1
                steps = (i_far - i_start) % count if direction < 0 else (i_end - i_far) % count
                underside = outline_q.contour[(i_far + direction * max(3, steps // 4)) % count].astype(float)
                sleeve_defect = (depth, far, underside)
        elif armhole_defect is None or far[1] < armhole_defect[0][1]:
            # An armhole: the topmost such concavity (lower ones are the waist of a fitted garment).
            armhole_defect = (far, np.stack([upper, lower]))
    if sleeve_defect is not None:
        _, armpit, underside = sleeve_defect
        column = mask[:, int(armpit[0])]
        shoulder = np.array([armpit[0], float(np.argmax(column))])
        return shoulder, armpit, sleeve_region(mask, shoulder=shoulder, armpit=armpit, underside=underside)
    if armhole_defect is not None:
        upper, lower = armhole_defect[1]
        return upper, lower, None
    # No concavity at all (a boxy vest): shoulders at the top band's ends, armpits a fifth of the way down.
    band = outline.contour[outline.contour[:, 1] <= y0 + 0.06 * height]
    shoulder = band[np.argmax(side * band[:, 0])].astype(float)
    y = int(y0 + 0.2 * height)
    run = _run_at(mask[y], outline.centre_x) or (x0, x1)
    return shoulder, np.array([float(run[0] if side < 0 else run[1]), float(y)]), None


def top_anchors(*, mask: np.ndarray) -> TopAnchors:
    """Anchors of a top, an outerwear piece or a dress."""
    outline = _outline(mask)
    shoulder_l, armpit_l, sleeve_l = _top_side(mask, outline, side=-1)
    shoulder_r, armpit_r, sleeve_r = _top_side(mask, outline, side=1)
    top = int(max(armpit_l[1], armpit_r[1])) + 1
    left, right, y = lowest_full_run(mask, x=int((armpit_l[0] + armpit_r[0]) / 2), top=top)
    return TopAnchors(
        shoulder_l=shoulder_l,
        shoulder_r=shoulder_r,
        armpit_l=armpit_l,
        armpit_r=armpit_r,
        hem_l=np.array([float(left), float(y)]),
        hem_r=np.array([float(right), float(y)]),
        sleeve_l=sleeve_l,
        sleeve_r=sleeve_r,
    )


def _crotch(outline: _Outline) -> np.ndarray | None:
    y0 = outline.box[1]
    candidates = [
        (depth, far)
        for _, _, far, depth in outline.defects
        if abs(far[0] - outline.centre_x) < 0.15 * outline.width
        and far[1] > y0 + 0.15 * outline.height
        and depth > 0.1 * outline.height
    ]
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def _refine_crotch(mask: np.ndarray, far: np.ndarray, bottom: int) -> np.ndarray:
    """Extend the inside leg seams up to where they meet.

    Between the legs the gap narrows to a sliver thinner than a pixel well before the crotch, so the outline's
    deepest point lies low; the two seams, fitted where the gap is clearly open, meet at the real crotch.
    """
    x = int(far[0])
    rows, lefts, rights = [], [], []
    for y in range(int(far[1]), bottom):
        row = mask[y]
        if row[x]:
            continue
        gap_left = np.flatnonzero(row[:x])
        gap_right = np.flatnonzero(row[x:])
        if gap_left.size and gap_right.size and x + gap_right[0] - gap_left[-1] > 3:
            rows.append(y)
            lefts.append(gap_left[-1] + 0.5)
            rights.append(x + gap_right[0] - 0.5)
    if len(rows) < 10:
        return far
    ys = np.array(rows, float)
    (a1, b1), (a2, b2) = np.polyfit(ys, lefts, 1), np.polyfit(ys, rights, 1)
    if abs(a1 - a2) < 1e-6:
        return far
    apex_y = (b2 - b1) / (a1 - a2)
    if not 0.0 <= apex_y <= far[1]:
        return far
    return np.array([float(a1 * apex_y + b1), float(apex_y)])


def bottom_anchors(*, mask: np.ndarray) -> BottomAnchors:
    """Anchors of trousers, shorts or a skirt."""
    outline = _outline(mask)
    _, y0, _, y1 = outline.box
    xs = np.flatnonzero(mask[min(y0 + 1, y1)])
    waist_l, waist_r = np.array([float(xs[0]), float(y0)]), np.array([float(xs[-1]), float(y0)])
    crotch = _crotch(outline)
    if crotch is not None:
        crotch = _refine_crotch(mask, crotch, y1)
    if crotch is None:
        left, right, y = lowest_full_run(mask, x=outline.centre_x, top=y0)
        return BottomAnchors(
            waist_l=waist_l,
            waist_r=waist_r,
            hem_l=np.array([float(left), float(y)]),
            hem_r=np.array([float(right), float(y)]),
            crotch=None,
            hem_l_inner=None,
            hem_r_inner=None,
        )
    split = int(crotch[0])
    legs = []
    for part, offset in ((mask[:, :split], 0), (mask[:, split:], split)):
        xs = np.nonzero(part[int(crotch[1]) :])[1]
        if xs.size == 0:
            raise EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, "A trouser leg is missing.", retryable=False)
        middle = int(np.median(xs))
        left, right, y = lowest_full_run(part, x=middle, top=int(crotch[1]) + 1)
        legs.append((np.array([float(left + offset), float(y)]), np.array([float(right + offset), float(y)])))
    (hem_l, hem_l_inner), (hem_r_inner, hem_r) = legs
    return BottomAnchors(
        waist_l=waist_l,
        waist_r=waist_r,
        hem_l=hem_l,
        hem_r=hem_r,
        crotch=crotch,
        hem_l_inner=hem_l_inner,
        hem_r_inner=hem_r_inner,
    )


def category_from_shape(*, mask: np.ndarray) -> Category:
    """A best guess when neither the request nor the text says what the garment is."""
    outline = _outline(mask)
    if _crotch(outline) is not None:
        return Category.BOTTOMS
    has_armpits = any(
        d > 0.03 * outline.width
        and abs(f[0] - outline.centre_x) > 0.1 * outline.width
        and f[1] < outline.box[1] + 0.5 * outline.height
        for _, _, f, d in outline.defects
    )
    if has_armpits:
        anchors = top_anchors(mask=mask)
        shoulders = float(np.linalg.norm(anchors.shoulder_r - anchors.shoulder_l))
        length = float((anchors.hem_l[1] + anchors.hem_r[1]) / 2 - (anchors.shoulder_l[1] + anchors.shoulder_r[1]) / 2)
        return Category.DRESSES if length > 2.3 * shoulders else Category.TOPS
    widths = mask.sum(axis=1)
    widest = int(np.argmax(widths))
    return Category.BOTTOMS if widest > (outline.box[1] + outline.box[3]) / 2 else Category.TOPS
