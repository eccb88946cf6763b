from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engines.local import LocalEngine, StaticPoseEstimator
from vision.synthetic import Mannequin, synthetic_mannequin


def encode(image: np.ndarray, *, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=image_format, quality=92)
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def mannequin_engine(mannequin: Mannequin) -> LocalEngine:
    """The local engine fed the mannequin's exact keypoints and mask instead of MediaPipe's estimate."""
    return LocalEngine(pose_estimator=StaticPoseEstimator(keypoints=mannequin.keypoints, mask=mannequin.mask))


@pytest.fixture(scope="session")
def mannequin() -> Mannequin:
    return synthetic_mannequin()


@pytest.fixture(scope="session")
def mannequin_local(mannequin: Mannequin) -> LocalEngine:
    return mannequin_engine(mannequin)
