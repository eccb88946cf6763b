"""The quality gate: what the local engine refuses to render, before and after rendering.

A try-on image is only worth returning when a merchant would show it. The engine fits a flat garment to a
standing, front-facing person; a seated or side-on person, arms folded across the chest, a leg-length garment on
a half-length portrait, or a product photo that shows a model all come out garbled, so they are refused up front
with a message that says what to change. After rendering, the garment must cover the body region its category
is for, in one piece; a fit that did not (a misread cut-out) is refused rather than returned.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from engines.base import Category, EngineError, EngineErrorCode
from engines.local.anchors import TopAnchors
from engines.local.body import VISIBLE, Body
from engines.local.cutout import outline_ratio
from vision.pose import PersonPose

# Shoulder joint to shoulder joint over shoulders to hips: ~0.7-1.0 facing the camera, ~0.3 side-on.
_MIN_FRONTAL_RATIO = 0.45
# How far (in torso lengths) the knees sit below the hips when standing; seated thighs point at the camera.
_MIN_THIGH = 0.55
_MIN_COVERAGE = {Category.TOPS: 0.7, Category.OUTERWEAR: 0.7, Category.DRESSES: 0.7, Category.BOTTOMS: 0.6}
_MAIN_PIECE = 0.9
_MAX_RAGGEDNESS = 9.5
_MAX_NEW_CHEST, _MAX_NEW_ARMS = 0.3, 0.45  # new skin a top may need, in shoulder widths squared
_MAX_NEW_FOREARMS = 0.1  # of it below the elbows: both whole forearms measure 0.3-0.4
_MAX_HOLES = 0.02  # of the painted garment  # share of the painted garment that must be one connected piece
# A top read as sleeveless whose side carries a vertical seam down this share of its body's rows has its sleeves
# hanging against the body: sleeveless packshots measured 0.33-0.6 (straps, a print's edges, a side's shading),
# balloon, bell, ruffled and long hanging sleeves 0.8-0.98 on their clearer side.
_MAX_SIDE_SEAM = 0.75
# Below a new dress's hem, in torso lengths: where the gap between the legs is looked at.
_OWN_SKIRT_PROBES = (0.06, 0.18)
_SIDE_ZONE = 0.35  # of the garment's width, from each side inwards: where a hanging sleeve's inner edge lies


def _pose_refusal(message: str) -> EngineError:
    return EngineError(EngineErrorCode.PERSON_POSE_UNSUPPORTED, message, retryable=False)


def _photo_refusal(message: str) -> EngineError:
    return EngineError(EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED, message, retryable=False)


def check_person(*, pose: PersonPose, body: Body, category: Category) -> None:
    """Raise PERSON_POSE_UNSUPPORTED unless the person stands facing the camera with what the garment needs in view."""
    # The body's own torso length is clamped to the shoulders' width; the frontal test needs the joints' raw one.
    torso = float(np.linalg.norm(body.hip_mid - body.shoulder_mid))
    if body.hips_visible and body.width < _MIN_FRONTAL_RATIO * torso:
        raise _pose_refusal("The person must face the camera: send a photo taken from the front, not from the side.")
    if pose.visible("nose", threshold=VISIBLE):
        nose = pose.point("nose")
        reach = float(np.dot(nose - body.shoulder_mid, body.across))
        if abs(reach) > 0.65 * body.width:
            raise _pose_refusal("The person must face the camera: send a photo with the head and body turned to it.")
    height = body.size[1]
    if category in (Category.BOTTOMS, Category.DRESSES):
        _check_legs(pose=pose, body=body, category=category)
    elif body.depth_of(np.array([body.shoulder_mid[0], float(height)])) < 0.4 * body.width:
        # A bust portrait is fine (the shirt runs on out of the frame); one cut off at the armpits is not. Measured
        # in shoulder widths: the hips of a bust portrait are guesses far off-frame.
        raise _pose_refusal("The photo must show the person's upper body, at least down to the chest.")
    if category != Category.BOTTOMS:
        _check_arms(body=body)


def _check_legs(*, pose: PersonPose, body: Body, category: Category) -> None:
    what = "trousers or a skirt" if category == Category.BOTTOMS else "a dress"
    if not body.hips_visible:
        raise _pose_refusal(f"The photo must show the person's hips and legs to try on {what}.")
    for leg in (body.leg_l, body.leg_r):
        # MediaPipe also reports a knee it guesses below the frame's edge as visible: in the frame is required.
        if not leg.middle_visible or leg.middle[1] > 0.97 * body.size[1]:
            raise _pose_refusal(f"The photo must show the person's legs down to the knees to try on {what}.")
        thigh = float(np.dot(leg.middle - leg.root, body.down))
        if thigh < _MIN_THIGH * body.torso:
            raise _pose_refusal(f"The person must be standing to try on {what}: send a photo taken standing up.")
        if leg.end_visible and float(np.dot(leg.end - leg.middle, body.down)) < 0.3 * body.torso:
            raise _pose_refusal(f"The person must be standing to try on {what}: send a photo taken standing up.")
    if category == Category.BOTTOMS:
        # Trousers need the gap between the legs: where the person's own dress or long skirt fills it, the old
        # garment would show between the new trouser legs, and what lies behind it cannot be invented.
        between = (body.leg_l.middle + body.leg_r.middle) / 2
        x, y = round(float(between[0])), round(float(between[1]))
        height, width = body.mask.shape
        if 0 <= x < width and 0 <= y < height and body.mask[y, x]:
            raise _pose_refusal(
                "The person's legs must be visible apart to try on trousers or a skirt: send a photo in trousers, "
                "shorts or a short skirt, standing with the feet slightly apart."
            )


def _check_arms(*, body: Body) -> None:
    """Folded arms hide the front of a top: both wrists over the torso, each on the other arm's side or close
    together in front of the chest. One hand resting on the belly is fine (the forearm stays in front)."""
    if not (body.arm_l.end_visible and body.arm_r.end_visible):
        return
    across_l = float(np.dot(body.arm_l.end - body.shoulder_mid, body.across))
    across_r = float(np.dot(body.arm_r.end - body.shoulder_mid, body.across))
    depth_l, depth_r = body.depth_of(body.arm_l.end), body.depth_of(body.arm_r.end)
    on_torso = all(0.1 * body.torso < d < 1.05 * body.torso for d in (depth_l, depth_r))
    crossed = across_l > 0.05 * body.width and across_r < -0.05 * body.width
    together = abs(across_r - across_l) < 0.45 * body.width and max(abs(across_l), abs(across_r)) < 0.4 * body.width
    if on_torso and (crossed or together):
        raise _pose_refusal("The person's arms must not be folded across the body: send a photo with the arms down.")


def _between_legs(*, body: Body, depth: float) -> np.ndarray | None:
    """The point midway between the legs `depth` pixels down the torso: on the line through the hips', knees' and
    ankles' midpoints, or None beyond the ankles."""
    line = [(body.leg_l.root + body.leg_r.root) / 2, (body.leg_l.middle + body.leg_r.middle) / 2]
    if body.leg_l.end_visible and body.leg_r.end_visible:
        line.append((body.leg_l.end + body.leg_r.end) / 2)
    for start, end in itertools.pairwise(line):
        d0, d1 = body.depth_of(start), body.depth_of(end)
        if d0 <= depth <= d1 and d1 > d0:
            return start + (end - start) * (depth - d0) / (d1 - d0)
    return None


def check_own_skirt_below(*, body: Body, hem: float) -> None:
    """Refuse a dress that ends above the shopper's own dress or long skirt (PERSON_POSE_UNSUPPORTED): below the
    new hem the old skirt fills the gap between the legs, and the legs it hides would have to be invented (they
    came out as stripes of the old dress and the backdrop). Trousers below a new hem stay, as they are."""
    height, width = body.mask.shape
    half = max(1, round(0.03 * body.width))
    for below in _OWN_SKIRT_PROBES:
        point = _between_legs(body=body, depth=hem + below * body.torso)
        if point is None:
            return
        x, y = round(float(point[0])), round(float(point[1]))
        if not (0 <= y < height and half <= x < width - half):
            return
        if float(body.mask[y, x - half : x + half + 1].mean()) < 0.99:
            return  # the backdrop shows between the legs there: nothing to invent
    raise _pose_refusal(
        "The person's own dress or skirt is longer than this one and hides the legs it would show: send a photo in "
        "trousers, shorts or a shorter dress."
    )


def check_invented_skin(*, chest: int, arms: int, forearms: int, body: Body, category: Category) -> None:
    """Refuse a top that bares far more of the shopper than their own clothes do (PERSON_POSE_UNSUPPORTED): a strap
    top over a high-necked, long-sleeved sweater would need a chest and whole arms drawn from nothing, which read
    as flat patches. New skin is drawn up to a budget in shoulder widths squared — `_MAX_NEW_CHEST` above a
    neckline and beside straps, `_MAX_NEW_ARMS` on the arms, of which `_MAX_NEW_FOREARMS` below the elbows (a bare
    forearm drawn in the outline of a long sleeve reads as a flat, swollen limb) — and beyond it the shopper is
    asked for a photo in lighter clothes."""
    if category not in (Category.TOPS, Category.OUTERWEAR):
        return
    area = body.width * body.width
    if chest > _MAX_NEW_CHEST * area or arms > _MAX_NEW_ARMS * area or forearms > _MAX_NEW_FOREARMS * area:
        raise _pose_refusal(
            "The person's clothes cover much more of the body than this garment does: send a photo in a short-"
            "sleeved or sleeveless top to try it on."
        )


def check_product_photo(*, pose: PersonPose | None, size: tuple[int, int]) -> None:
    """Refuse a product photo that shows a model wearing the garment: a head, with a face turned to the camera,
    above two shoulders. A printed face sits below the garment's shoulders and never passes."""
    if pose is None:
        return
    names = ("nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder")
    if not all(pose.visible(name, threshold=0.8) for name in names):
        return
    shoulders = (pose.point("left_shoulder"), pose.point("right_shoulder"))
    span = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    nose = pose.point("nose")
    if span < 0.1 * max(size) or nose[1] > min(s[1] for s in shoulders) - 0.25 * span:
        return
    raise _photo_refusal(
        "The product photo shows a model wearing the garment: send a packshot or flat-lay of the garment alone."
    )


def check_cutout(*, mask: np.ndarray) -> None:
    """Refuse a cut-out whose outline is ragged (PRODUCT_PHOTO_UNSUPPORTED): a print of pale flowers on a pale
    background, or a white panel below a dark belt, leaves bites out of the garment where the old garment
    would show through, and the warp scatters the rest over the shopper.

    Measured by `outline_ratio`: up to about 9 for clean packshots (trousers' two legs the most); beyond that a
    cut-out has lost pieces."""
    if outline_ratio(mask) > _MAX_RAGGEDNESS:
        raise _photo_refusal(
            "The garment could not be cut out cleanly from the product photo: send a photo of the garment alone on "
            "a plain background of a different colour from the garment."
        )


def side_seam_share(*, rgb: np.ndarray, mask: np.ndarray, anchors: TopAnchors) -> float:
    """How far down the body (the rows from the armpits, or a third of the way down, to 85 %) the strongest near-
    vertical edge of either side zone runs, as a share of those rows: a sleeve hanging against the body leaves its
    inner edge (a seam, a fold's shadow) there, a body's own side has nothing but fabric."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return 0.0
    top, bottom = int(ys.min()), int(ys.max())
    height, left, right = bottom - top, int(xs.min()), int(xs.max())
    start = max(int(min(anchors.armpit_l[1], anchors.armpit_r[1])), int(top + 0.3 * height))
    rows = slice(start, int(top + 0.85 * height))
    if rows.stop - rows.start < 10:
        return 0.0
    lightness = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), (0, 0), 1.5)
    across = np.abs(cv2.Sobel(lightness[rows], cv2.CV_32F, 1, 0, ksize=3))
    along = np.abs(cv2.Sobel(lightness[rows], cv2.CV_32F, 0, 1, ksize=3))
    # Inside the outline only: the garment's own edge against the background is not a seam.
    inner = cv2.erode(mask.astype(np.uint8), np.ones((9, 9), np.uint8))[rows] > 0
    vertical = ((across > 6.0) & (across > 2.0 * along) & inner).mean(axis=0)
    zone = max(1, int(_SIDE_ZONE * (right - left)))
    return float(max(vertical[left : left + zone].max(), vertical[right - zone + 1 : right + 1].max()))


def check_sleeves_apart(*, rgb: np.ndarray, mask: np.ndarray, anchors: TopAnchors) -> None:
    """Refuse a top whose sleeves hang against its body in the product photo (PRODUCT_PHOTO_UNSUPPORTED): its
    outline has no armpits, so it reads as sleeveless and sleeves and body would be warped as one puffed-out box
    over the shopper's arms."""
    if anchors.sleeve_l is not None or anchors.sleeve_r is not None:
        return
    if side_seam_share(rgb=rgb, mask=mask, anchors=anchors) > _MAX_SIDE_SEAM:
        raise _photo_refusal(
            "The garment's sleeves hang against its body in the product photo, so they cannot be told apart from "
            "it: send a photo with the sleeves laid out away from the body."
        )


def check_result(*, alpha: np.ndarray, box: tuple[int, int, int, int], body: Body, category: Category) -> None:
    """After rendering: the garment covers its body region and is one piece; raise PRODUCT_PHOTO_UNSUPPORTED if not."""
    painted = np.zeros(body.mask.shape, bool)
    painted[box[1] : box[3], box[0] : box[2]] = alpha >= 0.5
    total = int(painted.sum())
    message = (
        "The garment could not be fitted cleanly from this product photo: send a front view of the garment alone, "
        "upright, on a plain background."
    )
    if total == 0:
        raise _photo_refusal(message)
    # An arm in front of the garment cuts it in two on the image, not in the world: arms count as joining.
    joined = painted | (body.mask & ~body.trunk)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(joined.astype(np.uint8), connectivity=8)
    pieces = np.bincount(labels[painted], minlength=len(stats))[1:]
    if pieces.max() < _MAIN_PIECE * total:
        raise _photo_refusal(message)
    # Holes: unchanged pixels the garment (with the arms in front of it) encloses, where a pale part of the
    # product photo was read as background and the old garment shows through.
    inverse = (~joined).astype(np.uint8)
    count, labels = cv2.connectedComponents(inverse, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    enclosed = (labels > 0) & ~np.isin(labels, border)
    if count > 1 and float(enclosed.sum()) > _MAX_HOLES * total:
        raise _photo_refusal(message)
    region = required_region(body=body, category=category)
    if region.sum() and float(painted[region].mean()) < _MIN_COVERAGE.get(category, 0.7):
        raise _photo_refusal(message)


def required_region(*, body: Body, category: Category) -> np.ndarray:
    """The body pixels the category must cover: the chest and belly for tops and dresses, the thighs for bottoms."""
    source = body.mask if category == Category.BOTTOMS else body.trunk
    ys, xs = np.nonzero(source)  # only the body's pixels: a full-frame grid would cost more than the check
    depth = (xs - body.shoulder_mid[0]) * body.down[0] + (ys - body.shoulder_mid[1]) * body.down[1]
    across = (xs - body.shoulder_mid[0]) * body.across[0] + (ys - body.shoulder_mid[1]) * body.across[1]
    if category == Category.BOTTOMS:
        knees = float(np.mean([body.depth_of(leg.middle) for leg in (body.leg_l, body.leg_r)]))
        hips = body.depth_of(body.hip_mid)
        keep = (depth > hips + 0.1 * body.torso) & (depth < hips + 0.6 * (knees - hips))
        keep &= np.abs(across) < 0.6 * body.width
    else:
        keep = (depth > 0.3 * body.torso) & (depth < 0.85 * body.torso) & (np.abs(across) < 0.3 * body.width)
    region = np.zeros(source.shape, bool)
    region[ys[keep], xs[keep]] = True
    return region
