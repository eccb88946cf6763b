"""What the quality bench knows about a person photo, measured independently of the engine under test.

The silhouette comes from MediaPipe *selfie segmentation* (the engine uses Pose's own mask, so judging spill with
that mask would grade the engine with its own ruler), the face box from MediaPipe face detection, the body regions
from Pose landmarks (joints, which the regions only need roughly), the skin colour from the shopper's own face.
Everything here is framework-free; `body_regions` and `skin_mask` are pure functions so tests can feed a
mannequin's exact geometry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from vision.pose import MediapipePoseEstimator

Keypoints = dict[str, tuple[float, float, float]]  # MediaPipe name -> (x, y, visibility), pixels

VISIBLE = 0.5
# Face boxes from the detector stop at the brows; hair and forehead above also belong to the face that must not
# change. Not padded downwards: the collar of a top legitimately starts under the chin.
FACE_PAD_SIDE, FACE_PAD_TOP = 0.10, 0.25
# Skin = within this Mahalanobis distance of the face's chroma, and this many L* standard deviations.
SKIN_CHROMA_DISTANCE, SKIN_LIGHTNESS_SIGMAS = 3.0, 3.0


@dataclass(frozen=True)
class PersonAnalysis:
    silhouette: np.ndarray  # bool, the person (selfie segmentation > 0.5)
    face: np.ndarray  # bool, the padded face box
    face_box: tuple[int, int, int, int] | None  # x0, y0, x1, y1
    face_source: str  # "face_detection", "pose" or "none"
    keypoints: Keypoints
    skin: np.ndarray  # bool, skin-coloured person pixels (colour model from the face)
    lab: np.ndarray  # float32 CIE L*a*b* of the person photo


def to_lab(image: np.ndarray) -> np.ndarray:
    """RGB uint8 -> CIE L*a*b* float32 (L in 0..100)."""
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _capsule(mask: np.ndarray, a: tuple[float, float], b: tuple[float, float], radius: float) -> None:
    r = max(1, round(radius))
    pa, pb = (round(a[0]), round(a[1])), (round(b[0]), round(b[1]))
    cv2.line(mask, pa, pb, 1, thickness=2 * r)
    cv2.circle(mask, pa, r, 1, -1)
    cv2.circle(mask, pb, r, 1, -1)


def _xy(keypoints: Keypoints, name: str) -> tuple[float, float]:
    x, y, _ = keypoints[name]
    return (x, y)


def body_regions(*, keypoints: Keypoints, silhouette: np.ndarray) -> dict[str, np.ndarray]:
    """Rough body regions from joints, each intersected with the silhouette.

    torso: shoulders (lowered by 10 % of the torso, the joints sit at the top of the chest) to hips; thighs and
    legs: capsules hip-knee(-ankle) a little narrower than a leg, from a tenth of the torso below the hips;
    forearms: elbow-wrist-hand capsules (arms in front of the body are not holes); arms: shoulder to hand;
    hands: a disc around each hand. All are empty when the joints they need are missing.
    """
    height, width = silhouette.shape
    shape = (height, width)
    empty = {name: np.zeros(shape, bool) for name in ("torso", "thighs", "legs", "forearms", "arms", "hands")}
    needed = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    if any(name not in keypoints for name in needed):
        return empty
    ls, rs, lh, rh = (np.array(_xy(keypoints, n)) for n in needed)
    shoulder_width = float(np.linalg.norm(ls - rs))
    hip_width = max(float(np.linalg.norm(lh - rh)), 0.5 * shoulder_width)
    torso_length = float(np.linalg.norm((ls + rs) / 2 - (lh + rh) / 2))
    down = ((lh + rh) / 2 - (ls + rs) / 2) / max(torso_length, 1.0)
    regions = dict(empty)
    torso = np.zeros(shape, np.uint8)
    quad = np.array([ls + down * 0.1 * torso_length, rs + down * 0.1 * torso_length, rh, lh])
    cv2.fillPoly(torso, [np.round(quad).astype(np.int32)], 1)
    regions["torso"] = (torso > 0) & silhouette
    thighs, legs = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    for side in ("left", "right"):
        hip, knee, ankle = f"{side}_hip", f"{side}_knee", f"{side}_ankle"
        if knee in keypoints:
            _capsule(thighs, _xy(keypoints, hip), _xy(keypoints, knee), 0.35 * hip_width)
            _capsule(legs, _xy(keypoints, hip), _xy(keypoints, knee), 0.35 * hip_width)
            if ankle in keypoints:
                _capsule(legs, _xy(keypoints, knee), _xy(keypoints, ankle), 0.25 * hip_width)
    # The hip joints sit at the waistband's level, where a top's hem legitimately overlaps the trousers.
    hip_row = round(min(lh[1], rh[1]) + 0.1 * torso_length)
    for name, mask in (("thighs", thighs), ("legs", legs)):
        mask[: max(hip_row, 0)] = 0
        regions[name] = (mask > 0) & silhouette
    forearms, arms, hands = (np.zeros(shape, np.uint8) for _ in range(3))
    for side in ("left", "right"):
        shoulder, elbow, wrist = f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"
        if elbow not in keypoints or wrist not in keypoints:
            continue
        _capsule(arms, _xy(keypoints, shoulder), _xy(keypoints, elbow), 0.16 * shoulder_width)
        for mask in (forearms, arms):
            _capsule(mask, _xy(keypoints, elbow), _xy(keypoints, wrist), 0.13 * shoulder_width)
        hand = [_xy(keypoints, f"{side}_{p}") for p in ("wrist", "index", "pinky") if f"{side}_{p}" in keypoints]
        centre = np.mean(np.array(hand), axis=0)
        for mask in (forearms, arms, hands):
            cv2.circle(mask, (round(centre[0]), round(centre[1])), max(1, round(0.16 * shoulder_width)), 1, -1)
    for name, mask in (("forearms", forearms), ("arms", arms), ("hands", hands)):
        regions[name] = (mask > 0) & silhouette
    return regions


def zone_rows(*, keypoints: Keypoints, category: str, height: int) -> tuple[int, int]:
    """Rows where the category's old garment may be: tops from the shoulders to a little below the hips (long
    shirts), bottoms from a little above the hips (waistband) to below the ankles, dresses both."""
    ys = {n: keypoints[n][1] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip") if n in keypoints}
    if len(ys) < 4:
        return (0, 0)
    shoulder = min(ys["left_shoulder"], ys["right_shoulder"])
    hip = max(ys["left_hip"], ys["right_hip"])
    torso = max(hip - shoulder, 1.0)
    ankles = [keypoints[n][1] for n in ("left_ankle", "right_ankle") if n in keypoints]
    low = max(ankles) + 0.1 * torso if ankles else float(height)
    top, bottom = {
        "tops": (shoulder - 0.1 * torso, hip + 0.3 * torso),
        "bottoms": (hip - 0.15 * torso, low),
        "dresses": (shoulder - 0.1 * torso, low),
    }[category]
    return (max(0, round(top)), min(height, round(bottom)))


def category_region(*, regions: dict[str, np.ndarray], category: str) -> np.ndarray:
    """The body region the category must cover: torso for tops, legs for bottoms, torso and thighs for dresses
    (a dress may stop at the knee)."""
    if category == "tops":
        return regions["torso"]
    if category == "bottoms":
        return regions["legs"]
    return regions["torso"] | regions["thighs"]


def skin_mask(*, lab: np.ndarray, face_box: tuple[int, int, int, int] | None, silhouette: np.ndarray) -> np.ndarray:
    """Person pixels of the shopper's own skin colour, modelled on the central part of the face box (no hair, no
    background): a Gaussian on a*b* plus an L* band."""
    if face_box is None:
        return np.zeros(silhouette.shape, bool)
    x0, y0, x1, y1 = face_box
    w, h = x1 - x0, y1 - y0
    inner = lab[y0 + h // 3 : y1 - h // 6, x0 + w // 4 : x1 - w // 4].reshape(-1, 3)
    if len(inner) < 50:
        return np.zeros(silhouette.shape, bool)
    chroma = inner[:, 1:].astype(np.float64)
    mean = chroma.mean(axis=0)
    cov = np.cov(chroma, rowvar=False) + np.eye(2) * 4.0  # floor: a flat synthetic face has zero variance
    inv = np.linalg.inv(cov)
    d = lab[..., 1:].reshape(-1, 2) - mean
    mahalanobis = np.sqrt(np.einsum("ij,jk,ik->i", d, inv, d)).reshape(silhouette.shape)
    l_mean, l_std = float(inner[:, 0].mean()), float(inner[:, 0].std()) + 4.0
    lightness = np.abs(lab[..., 0] - l_mean) < SKIN_LIGHTNESS_SIGMAS * l_std
    return (mahalanobis < SKIN_CHROMA_DISTANCE) & lightness & silhouette


def face_box_mask(
    *, box: tuple[float, float, float, float] | None, shape: tuple[int, int]
) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """The face box (x0, y0, x1, y1 in pixels), padded up and sideways, as a mask."""
    mask = np.zeros(shape, bool)
    if box is None:
        return mask, None
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    padded = (
        max(0, round(x0 - FACE_PAD_SIDE * w)),
        max(0, round(y0 - FACE_PAD_TOP * h)),
        min(shape[1], round(x1 + FACE_PAD_SIDE * w)),
        min(shape[0], round(y1)),
    )
    mask[padded[1] : padded[3], padded[0] : padded[2]] = True
    return mask, padded


def _pose_face_box(keypoints: Keypoints) -> tuple[float, float, float, float] | None:
    """Fallback when the face detector finds nothing: the box around Pose's face points (ears to mouth), grown
    to reach the brow and chin."""
    names = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right")
    points = np.array([keypoints[n][:2] for n in names if n in keypoints and keypoints[n][2] >= VISIBLE])
    if len(points) < 4:
        return None
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    h = max(x1 - x0, 1.0)  # ear to ear ~ face height
    return (float(x0), float(y0 - 0.35 * h), float(x1), float(y1 + 0.35 * h))


class PersonAnalyser:
    """The MediaPipe graphs the bench needs, loaded once per process (graphs are not thread-safe: one lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pose = MediapipePoseEstimator()
        self._segmenter: object | None = None
        self._faces: object | None = None

    def _graphs(self) -> tuple[object, object]:
        if self._segmenter is None:
            from mediapipe.python.solutions import face_detection, selfie_segmentation

            self._segmenter = selfie_segmentation.SelfieSegmentation(model_selection=0)
            # model 1 (full range) finds the small faces of full-body shots; both models ship in the wheel.
            self._faces = face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        return self._segmenter, self._faces  # type: ignore[return-value]

    def analyse(self, *, image: np.ndarray) -> PersonAnalysis:
        height, width = image.shape[:2]
        pose = self._pose.estimate(image=image)
        keypoints: Keypoints = {} if pose is None else {k: (v.x, v.y, v.visibility) for k, v in pose.keypoints.items()}
        with self._lock:
            segmenter, faces = self._graphs()
            segmentation = segmenter.process(np.ascontiguousarray(image)).segmentation_mask  # type: ignore[attr-defined]
            detections = faces.process(np.ascontiguousarray(image)).detections  # type: ignore[attr-defined]
        silhouette = np.asarray(segmentation) > 0.5
        if silhouette.shape != (height, width):
            silhouette = cv2.resize(silhouette.astype(np.uint8), (width, height), cv2.INTER_NEAREST) > 0
        box, source = None, "none"
        if detections:
            best = max(detections, key=lambda d: d.score[0])
            rb = best.location_data.relative_bounding_box
            box = (rb.xmin * width, rb.ymin * height, (rb.xmin + rb.width) * width, (rb.ymin + rb.height) * height)
            source = "face_detection"
        elif (box := _pose_face_box(keypoints)) is not None:
            source = "pose"
        face, face_box = face_box_mask(box=box, shape=(height, width))
        lab = to_lab(image)
        skin = skin_mask(lab=lab, face_box=face_box, silhouette=silhouette)
        return PersonAnalysis(
            silhouette=silhouette,
            face=face,
            face_box=face_box,
            face_source=source,
            keypoints=keypoints,
            skin=skin,
            lab=lab,
        )
