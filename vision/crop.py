"""The person-aware crop for customer uploads: a 4:5 box around the person, or the centred box when there is none.

Runs inside the upload request, so it works on a copy no larger than the pose model's input and reuses the
process's already-loaded MediaPipe graph (the same one the local engine uses).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vision.pose import POSE_INPUT_LONG_SIDE, PoseEstimator, shared_pose_estimator

Box = tuple[int, int, int, int]

# Room around the person, as a fraction of the person's larger side: hair and fingertips sit at the mask's edge.
_MARGIN = 0.06
_VISIBLE = 0.5


def _centred(
    *, width: int, height: int, aspect: float, centre: tuple[float, float]
) -> tuple[float, float, float, float]:
    """The largest box of the aspect (width / height) inside the image, centred as near `centre` as it fits."""
    box_w, box_h = (height * aspect, float(height)) if width >= height * aspect else (float(width), width / aspect)
    left = min(max(centre[0] - box_w / 2, 0.0), width - box_w)
    top = min(max(centre[1] - box_h / 2, 0.0), height - box_h)
    return left, top, box_w, box_h


def _person_box(small: np.ndarray, estimator: PoseEstimator) -> tuple[float, float, float, float] | None:
    pose = estimator.estimate(image=small)
    if pose is None:
        return None
    ys, xs = np.nonzero(pose.mask >= 0.5)
    points = [(kp.x, kp.y) for kp in pose.keypoints.values() if kp.visibility >= _VISIBLE]
    if xs.size:
        points += [(float(xs.min()), float(ys.min())), (float(xs.max()) + 1, float(ys.max()) + 1)]
    if not points:
        return None
    array = np.array(points)
    height, width = small.shape[:2]
    x0, y0 = np.clip(array.min(axis=0), 0, None)
    x1, y1 = np.minimum(array.max(axis=0), (width, height))
    return float(x0), float(y0), float(x1), float(y1)


def person_crop_box(
    *,
    image: Image.Image | None = None,
    image_bytes: bytes | None = None,
    aspect: tuple[int, int] = (4, 5),
    estimator: PoseEstimator | None = None,
) -> Box:
    """(left, top, right, bottom) of a crop with the given aspect that contains the person when it can."""
    if (image is None) == (image_bytes is None):
        raise ValueError("pass exactly one of image or image_bytes")
    if image is None:
        image = Image.open(io.BytesIO(image_bytes or b""))
        image.load()
    width, height = image.size
    ratio = aspect[0] / aspect[1]
    scale = min(1.0, POSE_INPUT_LONG_SIDE / max(width, height))
    small = image
    if scale < 1.0:
        # Reduced before the colour conversion: converting first made a full-size copy (108 MB for a 6000 x 6000
        # upload) on top of the decode, inside the upload's decoding capacity. Palette and bilevel images resize by
        # nearest neighbour, so those are converted first.
        if small.mode in ("P", "1"):
            small = small.convert("RGB")
        small = small.resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
    small = small.convert("RGB")
    found = _person_box(np.asarray(small), estimator or shared_pose_estimator())
    if found is None:
        left, top, box_w, box_h = _centred(width=width, height=height, aspect=ratio, centre=(width / 2, height / 2))
    else:
        x0, y0, x1, y1 = (v / scale for v in found)
        margin = _MARGIN * max(x1 - x0, y1 - y0)
        x0, y0, x1, y1 = max(0.0, x0 - margin), max(0.0, y0 - margin), min(width, x1 + margin), min(height, y1 + margin)
        need_w, need_h = x1 - x0, y1 - y0
        box_w, box_h = (need_h * ratio, need_h) if need_w < need_h * ratio else (need_w, need_w / ratio)
        if box_w > width or box_h > height:
            # The person does not fit at this aspect: the largest box there is, centred on the person.
            left, top, box_w, box_h = _centred(
                width=width, height=height, aspect=ratio, centre=((x0 + x1) / 2, (y0 + y1) / 2)
            )
        else:
            left = min(max((x0 + x1) / 2 - box_w / 2, 0.0), width - box_w)
            top = min(max((y0 + y1) / 2 - box_h / 2, 0.0), height - box_h)
    left, top = round(left), round(top)
    return left, top, min(width, left + round(box_w)), min(height, top + round(box_h))
