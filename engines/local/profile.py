"""Top landmarks from the garment's width profile, for real packshots whose outline defeats the concavity search.

A photographed shirt's outline is ragged (a folded cuff, a sleeve hanging close to the body, a shadow), and its
convexity defects then land on a cuff or a hem fold. The profile method leans on what every upright packshot
has instead: a body whose sides run nearly straight from the hem up to the armpits, and sleeves that stick out
beyond those sides above them. Reading up from the hem, the armpit is where the outline leaves the side line.
Left/right are the image's.
"""

from __future__ import annotations

import numpy as np

from engines.base import EngineError, EngineErrorCode
from engines.local.anchors import Sleeve, TopAnchors, lowest_full_run, sleeve_region, top_anchors

_SIDE_BAND = (0.55, 0.85)  # of the way from the top to the hem: rows that are surely body, below any armpit
_FUSED_SLEEVES = 1.6  # upper width over hem width beyond which a "sleeveless" top has unread sleeves
_MIN_SLEEVE_AREA = 0.03  # of the garment's pixels, per sleeve
_LEAVE = 0.05  # of the garment's width: how far beyond the side line the outline must step to be a sleeve


def _runs(mask: np.ndarray, x: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    width = mask.shape[1]
    gaps_left = ~mask[:, :x]
    gaps_right = ~mask[:, x:]
    left = np.where(gaps_left.any(axis=1), x - np.argmax(gaps_left[:, ::-1], axis=1), 0)
    right = np.where(gaps_right.any(axis=1), x + np.argmax(gaps_right, axis=1) - 1, width - 1)
    return mask[:, x], left.astype(float), right.astype(float)


def _armpit_row(
    extent: np.ndarray, line: np.ndarray, present: np.ndarray, *, start: int, top: int, margin: float, side: int
) -> int | None:
    """The highest row of the body's straight side, read upwards from `start`, before the outline steps out."""
    run = 0
    for y in range(start, top, -1):
        if not present[y]:
            return None
        if side * (extent[y] - line[y]) > margin:
            run += 1
            if run >= 3:
                return y + 3
        else:
            run = 0
    return None


def profile_top_anchors(*, mask: np.ndarray) -> TopAnchors | None:
    """Anchors of a sleeved top from its width profile, or None when the profile shows no sleeves."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    width, height = x1 - x0 + 1, y1 - y0 + 1
    band = slice(int(y0 + _SIDE_BAND[0] * height), int(y0 + _SIDE_BAND[1] * height))
    centre = int(np.median(xs[(ys >= band.start) & (ys < band.stop)]))
    present, left, right = _runs(mask, centre)
    rows = np.flatnonzero(present[band]) + band.start
    if rows.size < 10:
        return None
    widths = right[rows] - left[rows]
    full = rows[widths >= 0.8 * float(np.median(widths))]
    if full.size < 10:
        return None
    all_rows = np.arange(mask.shape[0], dtype=float)
    line_l = np.polyval(np.polyfit(full.astype(float), left[full], 1), all_rows)
    line_r = np.polyval(np.polyfit(full.astype(float), right[full], 1), all_rows)
    margin = _LEAVE * width
    top = int(y0 + 0.05 * height)
    armpits = []
    for extent, line, side in ((left, line_l, -1), (right, line_r, 1)):
        y = _armpit_row(extent, line, present, start=int(full.min()), top=top, margin=margin, side=side)
        if y is None:
            return _sleeveless(mask, present=present, left=left, right=right, centre=centre, height=height)
        armpits.append(np.array([float(line[y]), float(y)]))
    armpit_l, armpit_r = armpits
    sleeves: list[Sleeve | None] = []
    shoulders = []
    for armpit, side in ((armpit_l, -1), (armpit_r, 1)):
        column = mask[:, round(armpit[0])]
        shoulder = np.array([armpit[0], float(np.argmax(column))])
        if shoulder[1] >= armpit[1] - 0.05 * height:
            return None
        shoulders.append(shoulder)
        # A point on the sleeve's underside, a third of the way out from the armpit to the sleeve's far end: the
        # bottom of the run from the top of the garment in that column.
        outer = float(xs.min() if side < 0 else xs.max())
        x_u = round(armpit[0] + (outer - armpit[0]) / 3)
        if not 0 <= x_u < mask.shape[1] or abs(x_u - armpit[0]) < 2:
            return None
        column_u = mask[:, x_u]
        below = np.flatnonzero(~column_u[int(shoulder[1]) :])
        underside_y = int(shoulder[1]) + (int(below[0]) - 1 if below.size else int(column_u.size - shoulder[1] - 1))
        underside = np.array([float(x_u), float(max(underside_y, armpit[1]))])
        sleeves.append(sleeve_region(mask, shoulder=shoulder, armpit=armpit, underside=underside))
    hem_left, hem_right, hem_y = lowest_full_run(mask, x=centre, top=int(max(armpit_l[1], armpit_r[1])) + 1)
    return TopAnchors(
        shoulder_l=shoulders[0],
        shoulder_r=shoulders[1],
        armpit_l=armpit_l,
        armpit_r=armpit_r,
        hem_l=np.array([float(hem_left), float(hem_y)]),
        hem_r=np.array([float(hem_right), float(hem_y)]),
        sleeve_l=sleeves[0],
        sleeve_r=sleeves[1],
    )


def _sleeveless(
    mask: np.ndarray, *, present: np.ndarray, left: np.ndarray, right: np.ndarray, centre: int, height: int
) -> TopAnchors | None:
    """A strap or tank top: the armpits at the top corners of the body's full-width part, the shoulders at the
    tops of the straps (the highest garment pixels on each side of the centre, above the armpits)."""
    rows = np.flatnonzero(present)
    widths = right[rows] - left[rows]
    full = rows[widths >= 0.8 * float(np.median(widths))]
    if full.size < 10:
        return None
    armpit_y = int(full.min())
    above = mask[:armpit_y]
    shoulders = []
    for columns, offset in ((above[:, :centre], 0), (above[:, centre:], centre)):
        ys, xs = np.nonzero(columns)
        if ys.size == 0:
            return None
        top = int(ys.min())
        at_top = xs[ys <= top + 2] + offset
        shoulders.append(np.array([float(np.mean(at_top)), float(top)]))
    if min(armpit_y - s[1] for s in shoulders) < 0.08 * height:
        return None
    hem_left, hem_right, hem_y = lowest_full_run(mask, x=centre, top=armpit_y + 1)
    return TopAnchors(
        shoulder_l=shoulders[0],
        shoulder_r=shoulders[1],
        armpit_l=np.array([float(left[armpit_y]), float(armpit_y)]),
        armpit_r=np.array([float(right[armpit_y]), float(armpit_y)]),
        hem_l=np.array([float(hem_left), float(hem_y)]),
        hem_r=np.array([float(hem_right), float(hem_y)]),
        sleeve_l=None,
        sleeve_r=None,
    )


def anchors_plausible(anchors: TopAnchors, *, mask: np.ndarray) -> bool:
    """Whether a top's anchors describe an upright, roughly symmetric garment: shoulders level and above the
    armpits, armpits level and above the hem, the two sides mirror images of each other about the centre."""
    ys, xs = np.nonzero(mask)
    width, height = float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)
    level = 0.1 * height
    if abs(anchors.shoulder_l[1] - anchors.shoulder_r[1]) > level:
        return False
    if abs(anchors.armpit_l[1] - anchors.armpit_r[1]) > level:
        return False
    if min(anchors.armpit_l[1], anchors.armpit_r[1]) <= max(anchors.shoulder_l[1], anchors.shoulder_r[1]):
        return False
    if max(anchors.armpit_l[1], anchors.armpit_r[1]) >= min(anchors.hem_l[1], anchors.hem_r[1]) - 0.15 * height:
        return False
    if not anchors.shoulder_l[0] < anchors.shoulder_r[0] or not anchors.armpit_l[0] < anchors.armpit_r[0]:
        return False
    centre = (anchors.hem_l[0] + anchors.hem_r[0]) / 2
    for a, b in ((anchors.shoulder_l, anchors.shoulder_r), (anchors.armpit_l, anchors.armpit_r)):
        if abs((a[0] + b[0]) / 2 - centre) > 0.12 * width:
            return False
    area = float(mask.sum())
    for sleeve in (anchors.sleeve_l, anchors.sleeve_r):
        if sleeve is None:
            continue
        # A real sleeve is a sizeable piece reaching well out from its seam; a sliver along a strap is a misread.
        if np.linalg.norm(sleeve.cuff - (sleeve.shoulder + sleeve.armpit) / 2) < 0.15 * width:
            return False
        if sleeve.region.sum() < _MIN_SLEEVE_AREA * area:
            return False
    return (anchors.sleeve_l is None) == (anchors.sleeve_r is None)


def _unread_sleeves(anchors: TopAnchors, *, mask: np.ndarray) -> bool:
    """Whether a top read as sleeveless is far wider above its armpits than at its hem: sleeves fused with the
    body in the cut-out, which the fitting would leave sticking out in the product photo's pose."""
    if anchors.sleeve_l is not None or anchors.sleeve_r is not None:
        return False
    top = int(min(anchors.shoulder_l[1], anchors.shoulder_r[1]))
    bottom = int(max(anchors.armpit_l[1], anchors.armpit_r[1]))
    rows = mask[top : bottom + 1]
    if not rows.any():
        return False
    columns = np.flatnonzero(rows.any(axis=0))
    hem = float(anchors.hem_r[0] - anchors.hem_l[0])
    return float(columns[-1] - columns[0]) > _FUSED_SLEEVES * max(hem, 1.0)


def garment_top_anchors(*, mask: np.ndarray) -> TopAnchors:
    """The concavity anchors when they are plausible, else the profile's; raises PRODUCT_PHOTO_UNSUPPORTED when
    neither describes a garment the fitting can trust."""
    try:
        anchors: TopAnchors | None = top_anchors(mask=mask)
    except EngineError:
        anchors = None
    trusted = anchors is not None and anchors_plausible(anchors, mask=mask)
    if anchors is not None and trusted and anchors.sleeve_l is not None:
        return anchors
    # A sleeved shirt whose concavities were missed reads as a boxy vest: the profile finds its sleeves.
    profiled = profile_top_anchors(mask=mask)
    if profiled is not None and anchors_plausible(profiled, mask=mask) and not _unread_sleeves(profiled, mask=mask):
        return profiled
    if anchors is not None and trusted and not _unread_sleeves(anchors, mask=mask):
        return anchors
    raise EngineError(
        EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED,
        "The garment's shape could not be read from the product photo: send a front view of the garment alone, "
        "laid flat or on a packshot form, upright, on a plain background.",
        retryable=False,
    )
