"""Warp the garment's parts onto the person and blend them in.

Layers, back to front: the person; the garment's body (torso or legs); the person's forearms and hands, which
hang in front of a shirt; the sleeves, which cover the arms they sit on. The face and the hands are never
painted over, and nothing outside the slightly dilated body mask changes, whatever the warp produced. The
garment takes on the person's shading (creases, shadows) as a gentle multiplicative detail layer.
All blending is premultiplied, so the product photo's background never bleeds in as a halo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.local.body import BODY_DILATION, VISIBLE, Body, Limb, hand_centre
from engines.local.fitting import Part
from engines.local.tps import tps_dense_map, tps_fit
from vision.pose import FACE_LANDMARKS, PersonPose

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive)

# Enough to carry creases and soft shadows; more would print the old garment's seams and badges through.
_SHADING_STRENGTH = 0.6
_SHADING_RANGE = (0.82, 1.1)
_FALLOFF_DEPTH, _FALLOFF_WIDTH = 0.16, 0.05
_SLIVER = 0.05  # widest strip of old garment, in shoulder widths, that in-painting replaces


@dataclass(frozen=True)
class Layer:
    box: Box
    colour: np.ndarray  # h x w x 3 float32, premultiplied by alpha, 0..255
    alpha: np.ndarray  # h x w float32, 0..1
    over_arms: bool


def _union(boxes: list[Box]) -> Box:
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def _premultiplied(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.dstack([(rgb.astype(np.uint16) * alpha[..., None] // 255).astype(np.uint8), alpha])


def warp_part(*, part: Part, rgb: np.ndarray, alpha: np.ndarray, size: tuple[int, int]) -> Layer | None:
    """Warp one garment part onto the person's image plane; None when it lands outside the image."""
    region = part.region
    if part.over_arms:
        # Overlap the body a little so no seam opens between a sleeve and the torso it joins.
        region = cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & (alpha > 0)
    ys, xs = np.nonzero(region)
    if xs.size == 0:
        return None
    gx0, gy0, gx1, gy1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    garment_points = part.garment - np.array([gx0, gy0])
    part_alpha = np.where(region[gy0:gy1, gx0:gx1], alpha[gy0:gy1, gx0:gx1], 0).astype(np.uint8)
    source = _premultiplied(rgb[gy0:gy1, gx0:gx1], part_alpha)
    # Shrinking by more than ~1.25x in one remap aliases stripes and prints: prefilter to about the target scale.
    spread_g = np.linalg.norm(garment_points - garment_points.mean(axis=0), axis=1).mean()
    spread_p = np.linalg.norm(part.person - part.person.mean(axis=0), axis=1).mean()
    shrink = float(np.clip(spread_p / max(spread_g, 1e-6) * 1.25, 0.1, 1.0))
    if shrink < 1.0:
        h, w = source.shape[:2]
        source = cv2.resize(
            source, (max(2, round(w * shrink)), max(2, round(h * shrink))), interpolation=cv2.INTER_AREA
        )
        garment_points = garment_points * np.array([source.shape[1] / w, source.shape[0] / h])
    forward = tps_fit(source=garment_points, target=part.person)
    contours, _ = cv2.findContours((source[..., 3] > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64)
    landed = forward(outline)
    width, height = size
    margin = 4
    low, high = np.floor(landed.min(axis=0)).astype(int) - margin, np.ceil(landed.max(axis=0)).astype(int) + margin
    box = (max(0, int(low[0])), max(0, int(low[1])), min(width, int(high[0])), min(height, int(high[1])))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    inverse = tps_fit(source=part.person, target=garment_points)
    map_x, map_y = tps_dense_map(spline=inverse, box=box)
    warped = cv2.remap(
        source, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0)
    )
    return Layer(
        box=box,
        colour=warped[..., :3].astype(np.float32),
        alpha=warped[..., 3].astype(np.float32) / 255,
        over_arms=part.over_arms,
    )


def _paste(layer: Layer, box: Box) -> tuple[np.ndarray, np.ndarray]:
    h, w = box[3] - box[1], box[2] - box[0]
    colour, alpha = np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32)
    x0, y0 = layer.box[0] - box[0], layer.box[1] - box[1]
    lh, lw = layer.alpha.shape
    colour[y0 : y0 + lh, x0 : x0 + lw] = layer.colour
    alpha[y0 : y0 + lh, x0 : x0 + lw] = layer.alpha
    return colour, alpha


def _point(p: np.ndarray, box: Box) -> tuple[int, int]:
    return round(float(p[0]) - box[0]), round(float(p[1]) - box[1])


def face_ellipse(*, pose: PersonPose) -> tuple[tuple[float, float], tuple[float, float], float] | None:
    """(centre, semi-axes, angle in degrees) of an ellipse around the face, chin to forehead, ear to ear."""
    if not all(pose.visible(n, threshold=VISIBLE) for n in ("left_eye", "right_eye", "nose")):
        return None
    eye_l, eye_r = pose.point("left_eye"), pose.point("right_eye")
    eyes = (eye_l + eye_r) / 2
    if pose.visible("left_ear", threshold=VISIBLE) and pose.visible("right_ear", threshold=VISIBLE):
        span = float(np.linalg.norm(pose.point("left_ear") - pose.point("right_ear")))
    else:
        span = 0.0
    points = np.array([pose.point(n) for n in FACE_LANDMARKS])
    span = max(span, 1.9 * float(np.linalg.norm(eye_l - eye_r)), float(np.ptp(points[:, 0])))
    across = (eye_l - eye_r) / max(float(np.linalg.norm(eye_l - eye_r)), 1e-6)
    down = np.array([-across[1], across[0]])
    if np.dot(down, pose.point("nose") - eyes) < 0:
        down = -down
    centre = eyes + down * 0.32 * span
    angle = float(np.degrees(np.arctan2(across[1], across[0])))
    return (float(centre[0]), float(centre[1])), (0.66 * span, 0.92 * span), angle


def protected_mask(*, pose: PersonPose, body: Body, box: Box) -> np.ndarray:
    """Face and hands: pixels that keep the person's exact values."""
    h, w = box[3] - box[1], box[2] - box[0]
    mask = np.zeros((h, w), np.uint8)
    face = face_ellipse(pose=pose)
    if face is not None:
        (cx, cy), (ax, ay), angle = face
        cv2.ellipse(mask, ((cx - box[0], cy - box[1]), (2 * ax, 2 * ay), angle), 255, -1)
    for limb, side in _arms(body):
        if limb.end_visible:
            hand = hand_centre(limb=limb, pose=pose, side=side)
            radius = max(2, round(0.15 * body.width))
            cv2.line(mask, _point(limb.end, box), _point(hand, box), 255, 2 * radius)
            cv2.circle(mask, _point(hand, box), radius, 255, -1)
    return mask > 0


def _arms(body: Body) -> list[tuple[Limb, str]]:
    return [(body.arm_l, body.sides[0]), (body.arm_r, body.sides[1])]


def forearm_mask(*, pose: PersonPose, body: Body, box: Box) -> np.ndarray:
    """Forearms in view, which pass in front of a shirt's body."""
    h, w = box[3] - box[1], box[2] - box[0]
    mask = np.zeros((h, w), np.uint8)
    for limb, _ in _arms(body):
        if limb.middle_visible and limb.end_visible:
            cv2.line(mask, _point(limb.middle, box), _point(limb.end, box), 255, max(2, round(0.24 * body.width)))
    return (mask > 0) & body.mask[box[1] : box[3], box[0] : box[2]]


def allowed_alpha(*, body: Body, box: Box, hang: np.ndarray | None = None) -> np.ndarray:
    """1 inside the body mask (and a skirt's hang zone) and out to 2/3 of the dilation, fading to exactly 0 at
    the dilation's edge and beyond it. A distance transform rather than a dilation: linear time whatever the
    radius."""
    radius = max(1.0, BODY_DILATION * body.width)
    inside = body.mask[box[1] : box[3], box[0] : box[2]]
    if hang is not None:
        inside = inside | hang[box[1] : box[3], box[0] : box[2]]
    distance = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.clip((radius - distance) / (radius / 3), 0.0, 1.0).astype(np.float32)


def _guided_smooth(image: np.ndarray, *, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter with the image as its own guide: smooths what varies less than sqrt(eps) and
    keeps sharper edges. Box filters only, so it costs the same whatever the radius (OpenCV's own version is in
    the contrib package, which the headless wheel leaves out). Also returns how much of the image it kept
    (0 where flat, near 1 at edges and texture)."""
    size = (2 * radius + 1, 2 * radius + 1)
    mean = cv2.boxFilter(image, -1, size)
    variance = cv2.boxFilter(image * image, -1, size) - mean * mean
    a = variance / (variance + eps)
    b = mean - a * mean
    kept = cv2.boxFilter(a, -1, size)
    return kept * image + cv2.boxFilter(b, -1, size), kept


def shading(*, person: np.ndarray, body: Body) -> np.ndarray:
    """Multiplicative detail from the person's luminance: creases and soft shadows.

    Luminance over an edge-preserving smooth of itself, and only where the person's image is smooth to begin
    with: gentle variations (folds) come through, while edges and texture (the old garment's outline, badges,
    print, the body against the background) are left out instead of printing through the new garment.
    """
    grey = cv2.cvtColor(person, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = cv2.GaussianBlur(grey, (0, 0), max(0.8, 0.004 * body.width))
    base, textured = _guided_smooth(grey, radius=max(2, round(0.05 * body.width)), eps=16.0**2)
    ratio = (detail + 16.0) / (base + 16.0)
    weight = _SHADING_STRENGTH * (1.0 - textured) ** 2
    return np.clip(1.0 + weight * (ratio - 1.0), *_SHADING_RANGE).astype(np.float32)


def _falloff(*, alpha: np.ndarray, body: Body) -> np.ndarray:
    """Fabric turning away from the camera near the garment's outline catches less light: a soft darkening
    over the outer few percent of a shoulder width gives the flat cut-out some volume."""
    inside = (alpha > 0.5).astype(np.uint8)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    return (1.0 - _FALLOFF_DEPTH * np.exp(-distance / max(1.0, _FALLOFF_WIDTH * body.width))).astype(np.float32)


def _old_garment_slivers(*, alpha: np.ndarray, body: Body, box: Box, keep: np.ndarray) -> np.ndarray:
    """Trunk pixels just outside the new garment's sides, where the garment underneath still shows.

    Only beside the garment, row by row, and only a few percent of a shoulder width out: a neckline's opening is
    left alone (what shows there is the person's), and wider areas are beyond what in-painting can invent.
    """
    covered = alpha >= 0.5
    rows = covered.any(axis=1)
    if not rows.any():
        return np.zeros_like(covered)
    width = covered.shape[1]
    left = np.where(rows, np.argmax(covered, axis=1), width)
    right = np.where(rows, width - 1 - np.argmax(covered[:, ::-1], axis=1), -1)
    columns = np.arange(width)[None, :]
    beside = (columns < left[:, None]) | (columns > right[:, None])
    beside &= rows[:, None]
    near = cv2.distanceTransform((~covered).astype(np.uint8), cv2.DIST_L2, 3) <= _SLIVER * body.width
    ys = np.arange(box[1], box[3], dtype=np.float32)[:, None]
    xs = np.arange(box[0], box[2], dtype=np.float32)[None, :]
    below_shoulders = ((xs - body.shoulder_mid[0]) * body.down[0] + (ys - body.shoulder_mid[1]) * body.down[1]) > 0
    trunk = body.trunk[box[1] : box[3], box[0] : box[2]]
    return trunk & beside & near & below_shoulders & (keep > 0.99)


def composite(
    *, person: np.ndarray, layers: list[Layer], pose: PersonPose, body: Body, hang: np.ndarray | None = None
) -> tuple[np.ndarray, Box, np.ndarray]:
    """The person with the garment layers blended in, the box outside which nothing changed, and the garment's
    final opacity within that box (what the quality gate measures).

    `hang` widens the body mask for skirts and dresses, which hang across the gap between the legs.
    """
    if not layers:
        return person.copy(), (0, 0, 0, 0), np.zeros((0, 0), np.float32)
    box = _union([layer.box for layer in layers])
    colour = np.zeros((box[3] - box[1], box[2] - box[0], 3), np.float32)
    alpha = np.zeros(colour.shape[:2], np.float32)
    forearms = forearm_mask(pose=pose, body=body, box=box)
    for layer in sorted(layers, key=lambda item: item.over_arms):
        c, a = _paste(layer, box)
        if not layer.over_arms:
            c[forearms], a[forearms] = 0.0, 0.0
        # Premultiplied "over", in place: the new layer in front of what is already there.
        colour *= (1.0 - a)[..., None]
        colour += c
        alpha *= 1.0 - a
        alpha += a
    keep = allowed_alpha(body=body, box=box, hang=hang)
    keep[protected_mask(pose=pose, body=body, box=box)] = 0.0
    region = person[box[1] : box[3], box[0] : box[2]]
    alpha *= keep
    gain = keep * shading(person=region, body=body) * _falloff(alpha=alpha, body=body)
    colour *= gain[..., None]
    colour += region * (1.0 - alpha)[..., None]
    colour += 0.5
    np.clip(colour, 0, 255, out=colour)
    blended = np.where((alpha > 0)[..., None], colour.astype(np.uint8), region)
    slivers = _old_garment_slivers(alpha=alpha, body=body, box=box, keep=keep)
    if slivers.any():
        blended = cv2.inpaint(blended, slivers.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    result = person.copy()
    result[box[1] : box[3], box[0] : box[2]] = blended
    return result, box, alpha
