"""Person photos whose upper garment is already masked out: the "agnostic" images of the try-on papers.

A try-on pipeline that prepares its own person photos (the VITON-HD protocol, a shop's own pre-processing) may send
the shopper with the old top and arms painted flat mid-grey. Nothing of the old garment is left to replace there,
and nothing of the arms either: the grey area is the region to dress. So, instead of the usual fit-then-replace:

- the grey area is found (`vision/masked.py`: flat, neutral mid-grey; a real grey garment has folds, shading and a
  colour cast);
- the pose is read on a copy whose grey is in-painted (the pose network reads a grey slab as a wall);
- the body the fitting measures is a torso shaped from the joints and the arms along them, inside the grey area
  (the person segmentation counts the whole slab as body);
- the grey area is repainted: the backdrop's smooth gradient where nothing else goes, the shopper's skin (their
  own face's colour) on the neck and along the arms, and the fitted garment over it;
- nothing outside the grey area (grown by a seam's width) changes: face, hair, trousers and backdrop stay
  bit-identical.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from engines.local.body import Body, body_from_pose
from engines.local.compose import Layer
from engines.local.restore import face_mask, shopper_skin_model
from vision.masked import SEAM, backdrop, grey_pixels
from vision.pose import PersonPose

_BODY_INSET = 0.06  # shoulder widths: the grey area runs this far beyond the body it hides
_ARM_RADIUS, _FOREARM_RADIUS = 0.10, 0.085  # shoulder widths
_NECK_WIDTH = 0.28  # shoulder widths


def agnostic_body(*, pose: PersonPose, mask: np.ndarray) -> Body:
    """The body the fitting measures: outside the grey area, the person as segmented; inside it, a torso shaped
    from the shoulder and hip joints and the arms along their joints, kept a little inside the grey area's edge."""
    segmented = pose.mask >= 0.5
    rough = body_from_pose(pose=pose)
    height, width = mask.shape
    inset = max(1, round(_BODY_INSET * rough.width))
    inner = cv2.erode(mask.astype(np.uint8), np.ones((2 * inset + 1, 2 * inset + 1), np.uint8)) > 0
    hip_mid = rough.hip_mid
    hip_half = 0.62 * max(float(np.linalg.norm(rough.hip_r - rough.hip_l)), 0.75 * rough.width)
    hem = hip_mid + rough.down * 0.08 * rough.torso
    outline = np.array(
        [
            rough.shoulder_l - rough.across * 0.06 * rough.width,
            rough.shoulder_r + rough.across * 0.06 * rough.width,
            hem + rough.across * hip_half,
            hem - rough.across * hip_half,
        ],
        np.int32,
    )
    torso = np.zeros((height, width), np.uint8)
    cv2.fillPoly(torso, [outline], 1)
    arms = arm_mask(body=rough, size=(width, height), scale=1.5)
    trunk = (torso > 0) & inner & ~arms
    body_mask = trunk | (arms & inner) | (segmented & ~mask)
    return dataclasses.replace(rough, mask=body_mask, trunk=trunk)


def arm_mask(*, body: Body, size: tuple[int, int], scale: float = 1.0) -> np.ndarray:
    """Both arms as capsules along their joints (bool), `scale` times an arm's usual width."""
    arms = np.zeros((size[1], size[0]), np.uint8)
    for limb in (body.arm_l, body.arm_r):
        for start, end, radius in ((limb.root, limb.middle, _ARM_RADIUS), (limb.middle, limb.end, _FOREARM_RADIUS)):
            thickness = max(2, round(2 * radius * scale * body.width))
            cv2.line(arms, _pixel(start), _pixel(end), 1, thickness)
    return arms > 0


def _pixel(point: np.ndarray) -> tuple[int, int]:
    return round(float(point[0])), round(float(point[1]))


def _paint_rounded(*, canvas: np.ndarray, region: np.ndarray, colour: np.ndarray, body: Body) -> None:
    """`region` of `canvas` (float32 RGB, in place) painted in `colour` shaded as a limb is lit from the front:
    full light along its middle, a fifth darker at its edges, and an edge blended over a pixel into what is
    beside it, so a painted arm is round rather than a flat cut-out."""
    if not region.any():
        return
    inside = region.astype(np.uint8)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    radius = max(1.0, _FOREARM_RADIUS * body.width)
    light = 0.8 + 0.2 * np.sqrt(np.clip(depth / radius, 0.0, 1.0))
    weight = np.clip(cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 1.0) * 2.0, 0.0, 1.0) * region
    shaded = colour[None, None, :] * light[..., None]
    canvas[:] = canvas * (1.0 - weight[..., None]) + shaded * weight[..., None]


@dataclass(frozen=True)
class Repainted:
    image: np.ndarray
    changed: np.ndarray  # bool: the pixels that differ from the photo may only lie here
    garment_alpha: np.ndarray  # float32, the garment's opacity over the whole photo
    skin_px: int


def repaint(*, person: np.ndarray, mask: np.ndarray, pose: PersonPose, body: Body, layers: list[Layer]) -> Repainted:
    """The grey area painted over: backdrop, then skin on the neck and arms, then the garment layers."""
    height, width = mask.shape
    segmented = pose.mask >= 0.5
    # Backdrop samples: away from the grey area and from the person (hair, trousers) by a few pixels.
    near = cv2.dilate((mask | segmented).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    canvas = person.astype(np.float32)
    canvas[mask] = backdrop(person=person, known=~near)[mask]
    skin_px = 0
    model = shopper_skin_model(person=person, pose=pose, body=body)
    if model is not None:
        skin_rgb = cv2.cvtColor(model.lab.reshape(1, 1, 3).astype(np.uint8), cv2.COLOR_LAB2RGB)[0, 0]
        skin = arm_mask(body=body, size=(width, height))
        mouth = (pose.point("mouth_left") + pose.point("mouth_right")) / 2
        neck = np.zeros((height, width), np.uint8)
        cv2.line(neck, _pixel(mouth), _pixel(body.shoulder_mid), 1, max(2, round(_NECK_WIDTH * body.width)))
        skin = (skin | (neck > 0)) & mask
        _paint_rounded(canvas=canvas, region=skin, colour=skin_rgb.astype(np.float32), body=body)
        skin_px = int(skin.sum())
    colour = np.zeros((height, width, 3), np.float32)
    alpha = np.zeros((height, width), np.float32)
    for layer in sorted(layers, key=lambda item: item.over_arms):
        x0, y0, x1, y1 = layer.box
        # Premultiplied "over": the later layer (a sleeve) in front of the earlier (the body).
        colour[y0:y1, x0:x1] *= (1.0 - layer.alpha)[..., None]
        colour[y0:y1, x0:x1] += layer.colour
        alpha[y0:y1, x0:x1] *= 1.0 - layer.alpha
        alpha[y0:y1, x0:x1] += layer.alpha
    # The garment stays on the body: a flat sleeve the fit left standing out sideways is cut at the arm's edge,
    # as the photo's own silhouette cuts it in an ordinary try-on.
    seam = np.ones((2 * SEAM + 1, 2 * SEAM + 1), np.uint8)
    on_body = cv2.GaussianBlur((cv2.dilate(body.mask.astype(np.uint8), seam) & mask).astype(np.float32), (0, 0), 1.0)
    alpha *= on_body
    canvas = canvas * (1.0 - alpha)[..., None] + colour * on_body[..., None] + 0.5
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    # The face may border the grey (the mask's neck notch reaches the chin): its own pixels stay the photo's, bit
    # for bit, while the grey inside the face's outline is painted like the rest.
    keep = ~mask | (face_mask(pose=pose, size=(width, height)) & ~grey_pixels(person))
    image[keep] = person[keep]
    return Repainted(image=image, changed=mask & ~keep, garment_alpha=alpha, skin_px=skin_px)
