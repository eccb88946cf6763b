"""The person's body as the fitting needs it: image-sided joints, torso axes, silhouette widths, protected areas.

MediaPipe names joints from the person's point of view; here everything is by image side (``_l`` is the
image's left), which is also how garment anchors are named, so a front-facing photo and a flat lay line up.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.base import EngineError, EngineErrorCode
from vision.pose import PersonPose

VISIBLE = 0.5
# Body mask pixels this far (in shoulder widths) outside the segmentation may still receive garment: clothes sit
# off the skin and the mask's edge is soft. Nothing beyond it ever changes.
BODY_DILATION = 0.06


@dataclass(frozen=True)
class Limb:
    root: np.ndarray  # shoulder or hip joint
    middle: np.ndarray  # elbow or knee
    end: np.ndarray  # wrist or ankle
    middle_visible: bool
    end_visible: bool


@dataclass(frozen=True)
class Body:
    size: tuple[int, int]  # width, height of the image
    shoulder_l: np.ndarray
    shoulder_r: np.ndarray
    hip_l: np.ndarray
    hip_r: np.ndarray
    arm_l: Limb
    arm_r: Limb
    leg_l: Limb
    leg_r: Limb
    width: float  # shoulder joint to shoulder joint
    torso: float  # shoulder midpoint to hip midpoint
    across: np.ndarray  # unit vector, image left to right along the shoulders
    down: np.ndarray  # unit vector down the torso
    hips_visible: bool
    sides: tuple[str, str]  # MediaPipe's side names ("left"/"right") of the image-left and image-right limbs
    mask: np.ndarray  # bool, the person
    trunk: np.ndarray  # bool, the person without arms and hands: what garment widths are measured on

    @property
    def shoulder_mid(self) -> np.ndarray:
        return (self.shoulder_l + self.shoulder_r) / 2

    @property
    def hip_mid(self) -> np.ndarray:
        return (self.hip_l + self.hip_r) / 2

    def axis_point(self, depth: float) -> np.ndarray:
        """The point `depth` pixels down the torso's centre line from the shoulder midpoint."""
        return self.shoulder_mid + self.down * depth

    def depth_of(self, point: np.ndarray) -> float:
        return float(np.dot(point - self.shoulder_mid, self.down))

    def extents(
        self, centre: np.ndarray, *, reach: float, direction: np.ndarray | None = None, limbs: bool = False
    ) -> tuple[float, float]:
        """How far the trunk (or, with limbs, the whole body) reaches on each side of `centre`, up to `reach`.

        Measured along `across` unless another direction is given. On the trunk the far side of a gap still
        counts (a shadow in the mask must not cut a width short); on a limb the first gap ends it, so the other
        leg is not taken for this one.
        """
        direction = self.across if direction is None else direction
        source = self.mask if limbs else self.trunk
        steps = np.arange(1.0, max(2.0, reach), 1.0)
        result = []
        for sign in (-1.0, 1.0):
            points = centre[None, :] + sign * steps[:, None] * direction[None, :]
            xs, ys = np.round(points[:, 0]).astype(int), np.round(points[:, 1]).astype(int)
            inside = (xs >= 0) & (ys >= 0) & (xs < self.size[0]) & (ys < self.size[1])
            hit = np.zeros(len(steps), bool)
            hit[inside] = source[ys[inside], xs[inside]]
            gaps = np.flatnonzero(~hit)
            if limbs and gaps.size:
                hit[gaps[0] :] = False
            result.append(float(steps[hit].max()) if hit.any() else 0.0)
        return result[0], result[1]


def hang_zone(*, body: Body, start: float, end: float) -> np.ndarray:
    """The convex hull of the trunk between two depths: where a skirt hangs across the gap between the legs.

    Arms and hands are left out: a hand resting on the thigh must not widen the skirt out to it.
    """
    ys, xs = np.nonzero(body.trunk)
    depth = (xs - body.shoulder_mid[0]) * body.down[0] + (ys - body.shoulder_mid[1]) * body.down[1]
    keep = (depth >= start) & (depth <= end)
    zone = np.zeros(body.mask.shape, np.uint8)
    if keep.sum() >= 3:
        hull = cv2.convexHull(np.stack([xs[keep], ys[keep]], axis=1).astype(np.int32))
        cv2.fillConvexPoly(zone, hull, 1)
    return zone > 0


def _limb(pose: PersonPose, side: str, names: tuple[str, str, str]) -> Limb:
    root, middle, end = (pose.point(f"{side}_{n}") for n in names)
    return Limb(
        root=root,
        middle=middle,
        end=end,
        middle_visible=pose.visible(f"{side}_{names[1]}", threshold=VISIBLE),
        end_visible=pose.visible(f"{side}_{names[2]}", threshold=VISIBLE),
    )


def _capsule(mask: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float) -> None:
    cv2.line(
        mask,
        (round(a[0]), round(a[1])),
        (round(b[0]), round(b[1])),
        255,
        max(1, round(2 * radius)),
        lineType=cv2.LINE_8,
    )


def hand_centre(*, limb: Limb, pose: PersonPose, side: str) -> np.ndarray:
    fingers = [pose.point(f"{side}_{n}") for n in ("index", "pinky", "thumb") if f"{side}_{n}" in pose.keypoints]
    return np.mean([limb.end, *fingers], axis=0) if fingers else limb.end + (limb.end - limb.middle) * 0.25


def body_from_pose(*, pose: PersonPose) -> Body:
    """Raise PERSON_NOT_DETECTED unless both shoulders are in view: every garment hangs from them or is placed
    relative to them."""
    height, width = pose.mask.shape
    if not (pose.visible("left_shoulder", threshold=VISIBLE) and pose.visible("right_shoulder", threshold=VISIBLE)):
        raise EngineError(
            EngineErrorCode.PERSON_NOT_DETECTED, "The person's shoulders are not visible.", retryable=False
        )
    # Facing the camera, the person's left shoulder is on the image's right.
    left, right = (
        ("right", "left") if pose.point("left_shoulder")[0] > pose.point("right_shoulder")[0] else ("left", "right")
    )
    shoulder_l, shoulder_r = pose.point(f"{left}_shoulder"), pose.point(f"{right}_shoulder")
    hip_l, hip_r = pose.point(f"{left}_hip"), pose.point(f"{right}_hip")
    shoulder_width = float(np.linalg.norm(shoulder_r - shoulder_l))
    if shoulder_width < 8:
        raise EngineError(
            EngineErrorCode.PERSON_NOT_DETECTED, "The person is too small or seen side-on.", retryable=False
        )
    across = (shoulder_r - shoulder_l) / shoulder_width
    perpendicular = np.array([-across[1], across[0]])
    down = (hip_l + hip_r) / 2 - (shoulder_l + shoulder_r) / 2
    torso = float(np.linalg.norm(down))
    down = down / torso if torso > 0 else perpendicular
    if np.dot(down, perpendicular) < 0.6:
        down = perpendicular  # implausible hips (wrapped or guessed far off-frame): trust the shoulders
    torso = float(np.clip(torso, 0.9 * shoulder_width, 2.2 * shoulder_width))
    arm_l, arm_r = (_limb(pose, s, ("shoulder", "elbow", "wrist")) for s in (left, right))
    leg_l, leg_r = (_limb(pose, s, ("hip", "knee", "ankle")) for s in (left, right))
    mask = pose.mask >= 0.5
    arms = np.zeros((height, width), np.uint8)
    for arm, side in ((arm_l, left), (arm_r, right)):
        # Start the upper-arm capsule a third of the way down, so it never bites into the shoulders.
        start = arm.root + (arm.middle - arm.root) * 0.35
        _capsule(arms, start, arm.middle, 0.16 * shoulder_width)
        _capsule(arms, arm.middle, arm.end, 0.13 * shoulder_width)
        _capsule(arms, arm.end, hand_centre(limb=arm, pose=pose, side=side), 0.14 * shoulder_width)
    return Body(
        size=(width, height),
        shoulder_l=shoulder_l,
        shoulder_r=shoulder_r,
        hip_l=hip_l,
        hip_r=hip_r,
        arm_l=arm_l,
        arm_r=arm_r,
        leg_l=leg_l,
        leg_r=leg_r,
        width=shoulder_width,
        torso=torso,
        across=across,
        down=down,
        hips_visible=min(pose.keypoints[f"{s}_hip"].visibility for s in (left, right)) >= VISIBLE,
        sides=(left, right),
        mask=mask,
        trunk=mask & (arms == 0),
    )
