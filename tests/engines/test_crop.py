from __future__ import annotations

import io

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data

from engines.local import StaticPoseEstimator
from vision.crop import person_crop_box
from vision.synthetic import synthetic_mannequin


def assert_aspect(box: tuple[int, int, int, int], aspect: tuple[int, int]) -> None:
    left, top, right, bottom = box
    assert abs((right - left) * aspect[1] - (bottom - top) * aspect[0]) <= max(aspect), box


def contains(box: tuple[int, int, int, int], inner: tuple[float, float, float, float]) -> bool:
    return box[0] <= inner[0] and box[1] <= inner[1] and box[2] >= inner[2] and box[3] >= inner[3]


def on_canvas(
    *, size: tuple[int, int], at: tuple[int, int]
) -> tuple[Image.Image, StaticPoseEstimator, tuple[int, int, int, int]]:
    """The mannequin pasted at `at` on a larger canvas; its keypoints and mask moved with it, scaled to what
    the crop analyses (the canvas shrunk to the pose model's input size)."""
    mannequin = synthetic_mannequin()
    width, height = size
    canvas = np.full((height, width, 3), 232, np.uint8)
    x, y = at
    canvas[y : y + 1024, x : x + 768] = mannequin.image
    scale = min(1.0, 512 / max(width, height))
    small = (round(width * scale), round(height * scale))
    mask = np.zeros((height, width), np.float32)
    mask[y : y + 1024, x : x + 768] = mannequin.mask
    small_mask = np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).resize(small)) / 255.0
    keypoints = {k: ((px + x) * scale, (py + y) * scale, v) for k, (px, py, v) in mannequin.keypoints.items()}
    ys, xs = np.nonzero(mannequin.mask)
    person = (x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1)
    return Image.fromarray(canvas), StaticPoseEstimator(keypoints=keypoints, mask=small_mask), person


@pytest.mark.parametrize(
    ("size", "at"),
    [((2000, 1200), (900, 100)), ((1000, 3000), (100, 1500)), ((1800, 1100), (0, 40))],
    ids=["landscape", "portrait", "at-the-edge"],
)
def test_box_is_four_by_five_and_holds_the_person(size: tuple[int, int], at: tuple[int, int]) -> None:
    image, estimator, person = on_canvas(size=size, at=at)
    box = person_crop_box(image=image, estimator=estimator)
    assert_aspect(box, (4, 5))
    assert 0 <= box[0] < box[2] <= size[0] and 0 <= box[1] < box[3] <= size[1]
    assert contains(box, person)
    # Tight: the person takes most of the box's height.
    assert (person[3] - person[1]) / (box[3] - box[1]) > 0.8


def test_person_who_does_not_fit_gets_the_largest_box_centred_on_them() -> None:
    # A figure spanning the full height of a narrow frame: no 4:5 box can hold it; the largest one is centred on it.
    small = np.zeros((512, 358), np.float32)
    small[:, 150:250] = 1.0
    estimator = StaticPoseEstimator(keypoints={"nose": (200.0, 40.0, 0.0)}, mask=small)
    box = person_crop_box(image=Image.new("RGB", (700, 1000)), estimator=estimator)
    assert box == (0, 62, 700, 937)  # 875 = 700 * 5 / 4, centred on the figure's middle


def test_other_aspect() -> None:
    image, estimator, person = on_canvas(size=(2400, 1400), at=(800, 200))
    box = person_crop_box(image=image, estimator=estimator, aspect=(1, 1))
    assert_aspect(box, (1, 1))
    assert contains(box, person)


class _Nobody:
    def estimate(self, *, image: np.ndarray) -> None:
        return None


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1000, 1000), (100, 0, 900, 1000)), ((800, 2000), (0, 500, 800, 1500)), ((400, 500), (0, 0, 400, 500))],
)
def test_centre_crop_without_a_person(size: tuple[int, int], expected: tuple[int, int, int, int]) -> None:
    assert person_crop_box(image=Image.new("RGB", size, "white"), estimator=_Nobody()) == expected


def test_real_photos_with_the_real_model() -> None:
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        grace = Image.open(handle)
        grace.load()
    for image, face in ((Image.fromarray(data.astronaut()), (190, 95, 270, 190)), (grace, (190, 160, 345, 335))):
        box = person_crop_box(image=image)
        assert_aspect(box, (4, 5))
        assert contains(box, face)


def test_plain_image_with_the_real_model_is_centre_cropped() -> None:
    assert person_crop_box(image=Image.new("RGB", (1000, 600), (200, 210, 220))) == (260, 0, 740, 600)


def test_bytes_and_other_modes() -> None:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).convert("RGBA").save(buffer, format="PNG")
    box = person_crop_box(image_bytes=buffer.getvalue())
    assert_aspect(box, (4, 5))
    with pytest.raises(ValueError):
        person_crop_box()
