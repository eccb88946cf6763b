"""Person keypoints and body mask: the one seam between the engine and the pose model.

The engine only talks to a :class:`PoseEstimator`; tests inject exact keypoints through it, production uses
MediaPipe Pose (``model_complexity=1``, the only variant whose model ships inside the 0.10.21 wheel; 0 and 2
download theirs on first use). Pose's own segmentation output is the body mask: unlike SelfieSegmentation it
leaves out objects the person holds (a helmet, a bag), which a garment must never be painted over, and it comes
from the graph that already runs, so one lock guards one model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import cv2
import numpy as np

# MediaPipe Pose landmark order (BlazePose topology).
LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
FACE_LANDMARKS: tuple[str, ...] = LANDMARK_NAMES[:11]

# Pose runs on a copy no longer than this: its network sees 256 px anyway, so a larger input only costs the
# colour conversion and the resize inside the graph.
POSE_INPUT_LONG_SIDE = 512


class Keypoint(NamedTuple):
    x: float
    y: float
    visibility: float


@dataclass(frozen=True)
class PersonPose:
    """Keypoints in pixels of the analysed image and a body mask of the same size (float32, 0..1)."""

    keypoints: dict[str, Keypoint]
    mask: np.ndarray

    def point(self, name: str) -> np.ndarray:
        kp = self.keypoints[name]
        return np.array([kp.x, kp.y], dtype=np.float64)

    def visible(self, name: str, *, threshold: float = 0.5) -> bool:
        kp = self.keypoints.get(name)
        return kp is not None and kp.visibility >= threshold


class PoseEstimator(Protocol):
    def estimate(self, *, image: np.ndarray) -> PersonPose | None:
        """Return the most prominent person in an RGB uint8 image, or None when there is nobody."""
        ...


class StaticPoseEstimator:
    """Returns a fixed pose whatever the image: how tests and the gallery feed a mannequin's exact geometry."""

    def __init__(self, *, keypoints: dict[str, tuple[float, float, float]], mask: np.ndarray) -> None:
        self._pose = PersonPose(keypoints={k: Keypoint(*v) for k, v in keypoints.items()}, mask=mask.astype(np.float32))

    def estimate(self, *, image: np.ndarray) -> PersonPose | None:
        if image.shape[:2] != self._pose.mask.shape:
            raise ValueError("the static pose was made for an image of another size")
        return self._pose


class MediapipePoseEstimator:
    """MediaPipe Pose, loaded on first use and shared; calls are serialised because a graph is not thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pose: object | None = None

    def _graph(self) -> object:
        if self._pose is None:
            # Imported here: importing mediapipe costs ~0.5 s and the mock/hosted engines never need it.
            from mediapipe.python.solutions import pose as mp_pose

            self._pose = mp_pose.Pose(
                static_image_mode=True, model_complexity=1, enable_segmentation=True, min_detection_confidence=0.5
            )
        return self._pose

    def estimate(self, *, image: np.ndarray) -> PersonPose | None:
        height, width = image.shape[:2]
        scale = min(1.0, POSE_INPUT_LONG_SIDE / max(height, width))
        small = image
        if scale < 1.0:
            small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        small = np.ascontiguousarray(small)
        with self._lock:
            result = self._graph().process(small)  # type: ignore[attr-defined]
        if result.pose_landmarks is None:
            return None
        keypoints = {
            name: Keypoint(float(lm.x * width), float(lm.y * height), float(lm.visibility))
            for name, lm in zip(LANDMARK_NAMES, result.pose_landmarks.landmark, strict=True)
        }
        mask = result.segmentation_mask
        if mask is None:
            mask = np.zeros(small.shape[:2], np.float32)
        if mask.shape != (height, width):
            mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
        return PersonPose(keypoints=keypoints, mask=np.asarray(mask, dtype=np.float32))


_shared_lock = threading.Lock()
_shared: MediapipePoseEstimator | None = None


def shared_pose_estimator() -> MediapipePoseEstimator:
    """The process-wide MediaPipe estimator: the engine and the upload crop share one loaded model."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MediapipePoseEstimator()
        return _shared


def reset_shared_pose_estimator() -> None:
    """Drop the loaded model so the next call loads it again (tests prove the load itself is offline)."""
    global _shared
    with _shared_lock:
        _shared = None
