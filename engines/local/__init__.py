"""The offline try-on engine (docs/engines.md): MediaPipe pose and body mask, garment cut-out, thin-plate-spline fit."""

from engines.local.engine import LocalEngine, Rendering
from vision.pose import (
    Keypoint,
    MediapipePoseEstimator,
    PersonPose,
    PoseEstimator,
    StaticPoseEstimator,
    shared_pose_estimator,
)

__all__ = [
    "Keypoint",
    "LocalEngine",
    "MediapipePoseEstimator",
    "PersonPose",
    "PoseEstimator",
    "Rendering",
    "StaticPoseEstimator",
    "shared_pose_estimator",
]
