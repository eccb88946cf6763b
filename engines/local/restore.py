"""Replacement, not overlay: bare arms restored where the old garment's sleeves are not covered by the new one.

A short-sleeved top over a long-sleeved shirt would leave the old sleeves showing below its own. Under the old
sleeve is an arm, so those pixels become skin: the colour of the shopper's own face (a Gaussian in YCrCb's
chroma plane, learnt from the middle of the face) at the face's mean lightness, with the photo's own light and
shade over the arm carried across at reduced strength so the arm keeps its roundness. Skin that is already
bare is recognised by the same model and left alone, and so are the face and the hands.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.local.body import Body, hand_centre
from engines.local.compose import face_ellipse
from vision.pose import PersonPose

_SKIN_DISTANCE = 3.5  # Mahalanobis distance (chroma) beyond which a pixel is not the shopper's skin
_MIN_FACE_PIXELS = 200
_SHADING = 0.35  # share of the old sleeve's light and shade kept on the restored arm
_OLD_TOP_DISTANCE = 40.0  # Lab distance (8-bit scale) within which an arm pixel has the old top's colour
_MIN_AREA = 0.002  # of the image: fewer non-skin arm pixels than this are noise, not a sleeve
_CORE_WIDTH = 0.1  # shoulder widths: the arm's centre line, which an old sleeve covers and a side sliver does not
_CORE_SHARE = 0.5
_HAND_RADIUS = 0.07  # shoulder widths: a disc within the back of a hand
_HAND_MAX_VARIANCE = 25.0  # chroma variance along any direction, for a model learnt from the hands


@dataclass(frozen=True)
class SkinModel:
    chroma_mean: np.ndarray  # (Cr, Cb)
    chroma_inverse: np.ndarray  # inverse covariance, 2 x 2
    lab: np.ndarray  # mean Lab colour (OpenCV's 8-bit scale)

    def distance(self, ycrcb: np.ndarray) -> np.ndarray:
        d = ycrcb[..., 1:].astype(np.float32) - self.chroma_mean.astype(np.float32)
        inverse = self.chroma_inverse.astype(np.float32)
        quadratic = (d @ inverse * d).sum(axis=-1)
        return np.sqrt(np.maximum(quadratic, 0.0))


def skin_model(
    *, person: np.ndarray, face: tuple[tuple[float, float], tuple[float, float], float] | None
) -> SkinModel | None:
    """The shopper's skin colour from the middle of their face (cheeks, nose; eyes and hair stay outside)."""
    if face is None:
        return None
    (cx, cy), (ax, ay), angle = face
    mask = np.zeros(person.shape[:2], np.uint8)
    # The face ellipse reaches from ear to ear and up to the hairline: its middle third is skin.
    cv2.ellipse(mask, ((cx, cy + 0.1 * ay), (0.55 * ax, 0.45 * ay), angle), 255, -1)
    inside = mask > 0
    if inside.sum() < _MIN_FACE_PIXELS:
        return None
    ycrcb = cv2.cvtColor(person, cv2.COLOR_RGB2YCrCb)[inside].astype(np.float64)
    chroma = ycrcb[:, 1:]
    # Drop the darkest and brightest tenth (nostrils, specular highlights) before fitting.
    luma = ycrcb[:, 0]
    low, high = np.percentile(luma, [10, 90])
    keep = (luma >= low) & (luma <= high)
    if keep.sum() < _MIN_FACE_PIXELS // 2:
        return None
    lab = cv2.cvtColor(person, cv2.COLOR_RGB2LAB)[inside][keep].astype(np.float64)
    return _fitted(chroma=chroma[keep], lab=lab)


def _fitted(*, chroma: np.ndarray, lab: np.ndarray, max_variance: float | None = None) -> SkinModel:
    covariance = np.cov(chroma.T) + np.eye(2) * 4.0  # a floor: a very even face must not make the model a point
    if max_variance is not None:
        # A ceiling too: a spread sample (shaded hands) would otherwise reach the neutral white and grey of clothes.
        values, vectors = np.linalg.eigh(covariance)
        covariance = vectors @ np.diag(np.minimum(values, max_variance)) @ vectors.T
    return SkinModel(
        chroma_mean=chroma.mean(axis=0), chroma_inverse=np.linalg.inv(covariance), lab=np.median(lab, axis=0)
    )


def skin_model_from_hands(*, person: np.ndarray, pose: PersonPose, body: Body) -> SkinModel | None:
    """The shopper's skin colour from their hands, for a photo cropped above the mouth (common in shops' own
    model shots): discs over the backs of the hands, kept to the pixels inside a broad skin range of YCrCb's
    chroma plane (Cr 133-173, Cb 77-127, the classic skin-detection bounds) so a pocket or a sleeve's cuff under
    a disc does not become "skin". None when too few such pixels are in view."""
    disc = np.zeros(person.shape[:2], np.uint8)
    radius = max(2, round(_HAND_RADIUS * body.width))
    for limb, side in ((body.arm_l, body.sides[0]), (body.arm_r, body.sides[1])):
        if not limb.end_visible:
            continue
        centre = hand_centre(limb=limb, pose=pose, side=side)
        cv2.circle(disc, (round(float(centre[0])), round(float(centre[1]))), radius, 1, -1)
    inside = (disc > 0) & body.mask
    if inside.sum() < _MIN_FACE_PIXELS:
        return None
    ycrcb = cv2.cvtColor(person, cv2.COLOR_RGB2YCrCb)[inside].astype(np.float64)
    cr, cb = ycrcb[:, 1], ycrcb[:, 2]
    keep = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
    if keep.sum() < _MIN_FACE_PIXELS:
        return None
    chroma = ycrcb[keep][:, 1:]
    lab = cv2.cvtColor(person, cv2.COLOR_RGB2LAB)[inside][keep].astype(np.float64)
    # A disc can still hold some of a patterned pocket of skin-like hue: the half of the pixels nearest the median
    # colour (in chroma and lightness) is the hand.
    centre = np.median(np.column_stack([chroma, lab[:, 0]]), axis=0)
    spread = np.abs(np.column_stack([chroma, lab[:, 0]]) - centre) / np.array([4.0, 4.0, 12.0])
    closest = spread.max(axis=1) <= np.median(spread.max(axis=1))
    if closest.sum() < _MIN_FACE_PIXELS // 2:
        return None
    model = _fitted(chroma=chroma[closest], lab=lab[closest], max_variance=_HAND_MAX_VARIANCE)
    # A model that calls most of the torso skin learnt the clothes: no model is better than that one.
    trunk = cv2.cvtColor(person, cv2.COLOR_RGB2YCrCb)[body.trunk]
    if trunk.size and float((model.distance(trunk[None]) < _SKIN_DISTANCE).mean()) > 0.5:
        return None
    return model


def shopper_skin_model(*, person: np.ndarray, pose: PersonPose, body: Body) -> SkinModel | None:
    """The skin model from the face, else from the hands (a face out of frame)."""
    return skin_model(person=person, face=face_ellipse(pose=pose)) or skin_model_from_hands(
        person=person, pose=pose, body=body
    )


def _band_colour(
    *, person: np.ndarray, body: Body, start: float, end: float, half_width: float, source: np.ndarray
) -> np.ndarray | None:
    """Median Lab colour of the body between two depths (in torso lengths) near the centre line, or None when
    that band is not in the photo."""
    ys, xs = np.nonzero(source)
    depth = (xs - body.shoulder_mid[0]) * body.down[0] + (ys - body.shoulder_mid[1]) * body.down[1]
    across = (xs - body.shoulder_mid[0]) * body.across[0] + (ys - body.shoulder_mid[1]) * body.across[1]
    keep = (depth > start * body.torso) & (depth < end * body.torso) & (np.abs(across) < half_width * body.width)
    if keep.sum() < 50:
        return None
    pixels = person[ys[keep], xs[keep]].reshape(-1, 1, 3)
    return np.median(cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32), axis=0)


def soft_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of a float32 image; a wide one is taken at reduced scale (smooth at that scale anyway)."""
    factor = int(sigma // 3)
    if factor < 2:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / factor), (width, height), interpolation=cv2.INTER_LINEAR)


def face_mask(*, pose: PersonPose, size: tuple[int, int]) -> np.ndarray:
    """The face ellipse the compositor protects, as a full-size bool mask."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    face = face_ellipse(pose=pose)
    if face is not None:
        (cx, cy), (ax, ay), angle = face
        cv2.ellipse(mask, ((cx, cy), (2 * ax, 2 * ay), angle), 255, -1)
    return mask > 0


def restore_arms(
    *,
    image: np.ndarray,
    person: np.ndarray,
    covered: np.ndarray,
    body: Body,
    model: SkinModel | None,
    protected: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The image with uncovered old sleeves turned to skin, and the mask of the pixels it changed.

    `covered` is where the new garment is opaque, `protected` the face and hands (both full-size bool masks),
    `model` the shopper's skin colour (`skin_model`; nothing is restored without one).
    """
    changed = np.zeros(body.mask.shape, bool)
    if model is None:
        return image, changed
    arms = body.mask & ~body.trunk & ~covered & ~protected
    if not arms.any():
        return image, changed
    ys, xs = np.nonzero(arms)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    region = person[y0:y1, x0:x1]
    not_skin = model.distance(cv2.cvtColor(region, cv2.COLOR_RGB2YCrCb)) > _SKIN_DISTANCE
    sleeve = not_skin & arms[y0:y1, x0:x1]
    # Only what looks like the old top (its colour at the chest), never the trousers an arm hangs beside.
    lab_region = cv2.cvtColor(region, cv2.COLOR_RGB2LAB).astype(np.float32)
    old_top = _band_colour(person=person, body=body, start=0.25, end=0.5, half_width=0.25, source=body.trunk)
    if old_top is None:
        return image, changed
    to_top = np.linalg.norm(lab_region - old_top, axis=2)
    sleeve &= to_top < _OLD_TOP_DISTANCE
    below = _band_colour(person=person, body=body, start=1.1, end=1.4, half_width=0.5, source=body.mask)
    if below is not None:
        sleeve &= to_top < np.linalg.norm(lab_region - below, axis=2)
    sleeve = cv2.morphologyEx(sleeve.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    sleeve = _on_arm_core(sleeve=sleeve, body=body, origin=(int(x0), int(y0)))
    if sleeve.sum() < _MIN_AREA * body.mask.size:
        return image, changed
    region_mask = np.zeros(body.mask.shape, bool)
    region_mask[y0:y1, x0:x1] = sleeve
    return paint_skin(image=image, person=person, region=region_mask, model=model, body=body, protected=protected)


def _on_arm_core(*, sleeve: np.ndarray, body: Body, origin: tuple[int, int]) -> np.ndarray:
    """The pieces of `sleeve` (a crop at `origin`) that are an old sleeve: ones covering at least half of the arm's
    core (its centre line, a tenth of a shoulder width wide) where they lie. A dress's dark side or a shadow beside a
    bare arm only grazes the core, and painting it would put blocks of skin beside the arm."""
    core = np.zeros(sleeve.shape, np.uint8)
    thickness = max(2, round(_CORE_WIDTH * body.width))
    shift = np.array(origin, np.float64)
    for limb in (body.arm_l, body.arm_r):
        start = limb.root + (limb.middle - limb.root) * 0.35  # clear of the shoulder seam
        for a, b in ((start, limb.middle), (limb.middle, limb.end)):
            pa, pb = a - shift, b - shift
            cv2.line(core, (round(pa[0]), round(pa[1])), (round(pb[0]), round(pb[1])), 1, thickness)
    core_mask = core > 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(sleeve.astype(np.uint8), connectivity=8)
    keep = np.zeros(sleeve.shape, bool)
    for label in range(1, count):
        x, y, w, h = stats[label, :4]
        window = core_mask[y : y + h, x : x + w]
        piece = labels[y : y + h, x : x + w] == label
        if window.sum() and (piece & window).sum() >= _CORE_SHARE * window.sum():
            keep[y : y + h, x : x + w] |= piece
    return keep


def paint_skin(
    *, image: np.ndarray, person: np.ndarray, region: np.ndarray, model: SkinModel, body: Body, protected: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`region` (bool, full size) of `image` painted in the shopper's skin, with the photo's own light and shade
    over it at reduced strength; the mask of the pixels changed. Bare skin and `protected` stay as they are."""
    changed = np.zeros(body.mask.shape, bool)
    if not region.any():
        return image, changed
    ys, xs = np.nonzero(region)
    y0, y1, x0, x1 = max(0, ys.min() - 1), min(region.shape[0], ys.max() + 2), max(0, xs.min() - 1), xs.max() + 2
    x1 = min(region.shape[1], x1)
    sleeve = region[y0:y1, x0:x1]
    patch_person = person[y0:y1, x0:x1]
    not_skin = model.distance(cv2.cvtColor(patch_person, cv2.COLOR_RGB2YCrCb)) > _SKIN_DISTANCE
    lab = cv2.cvtColor(patch_person, cv2.COLOR_RGB2LAB).astype(np.float32)
    lightness = lab[..., 0]
    # The old garment's own light and shade: its lightness against a blur of itself taken over the region only, so
    # the bright background beside an arm does not darken the arm's edges.
    sigma = max(2.0, 0.08 * body.width)
    inside = sleeve.astype(np.float32)
    local = soft_blur(lightness * inside, sigma) / np.maximum(soft_blur(inside, sigma), 1e-3)
    shade = (lightness - local) * inside
    skin = np.empty_like(lab)
    skin[..., 0] = np.clip(model.lab[0] + _SHADING * shade, 0, 255)
    skin[..., 1], skin[..., 2] = model.lab[1], model.lab[2]
    skin_rgb = cv2.cvtColor(skin.astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32)
    # The old garment's edge pixels are part garment: the skin runs a pixel beyond it, fully opaque inside, and
    # fades only over that outer pixel, so no rim of the old colour is left.
    grown = cv2.dilate(sleeve.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    grown &= body.mask[y0:y1, x0:x1] & ~protected[y0:y1, x0:x1] & not_skin  # bare skin stays exactly as it was
    weight = np.clip(2.0 * cv2.GaussianBlur(grown.astype(np.float32), (0, 0), 1.0), 0.0, 1.0) * grown
    weight = weight[..., None]
    out = image.copy()
    patch = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(patch * (1 - weight) + skin_rgb * weight + 0.5, 0, 255).astype(np.uint8)
    changed[y0:y1, x0:x1] = grown
    return out, changed
