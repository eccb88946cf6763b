from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.local.anchors import top_anchors
from engines.local.body import body_from_pose
from engines.local.fitting import fit_top
from engines.local.tps import tps_dense_map, tps_fit
from vision.pose import Keypoint, PersonPose
from vision.synthetic import Mannequin, synthetic_long_sleeve, synthetic_tshirt


def sample(map_x: np.ndarray, map_y: np.ndarray, point: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The dense map's bilinear value at a (sub-pixel) image point."""
    centre = (float(point[0] - box[0]), float(point[1] - box[1]))
    return np.array([cv2.getRectSubPix(map_x, (1, 1), centre)[0, 0], cv2.getRectSubPix(map_y, (1, 1), centre)[0, 0]])


def test_spline_interpolates_its_control_points_exactly() -> None:
    rng = np.random.default_rng(3)
    source = rng.uniform(0, 700, (15, 2))
    target = source + rng.normal(0, 25, source.shape)
    spline = tps_fit(source=source, target=target)
    assert np.abs(spline(source) - target).max() < 1e-6


def test_spline_reproduces_an_affine_map() -> None:
    source = np.array([[0, 0], [100, 0], [0, 100], [100, 100], [50, 30]], float)
    matrix, offset = np.array([[1.2, 0.1], [-0.2, 0.9]]), np.array([30.0, -12.0])
    spline = tps_fit(source=source, target=source @ matrix.T + offset)
    probe = np.array([[10.0, 80.0], [300.0, -40.0]])
    assert np.allclose(spline(probe), probe @ matrix.T + offset, atol=1e-6)


def test_spline_refuses_too_few_points() -> None:
    with pytest.raises(ValueError):
        tps_fit(source=np.zeros((2, 2)), target=np.zeros((2, 2)))


@pytest.mark.parametrize("garment", [synthetic_tshirt(), synthetic_long_sleeve()], ids=["t-shirt", "long-sleeve"])
def test_dense_warp_maps_every_control_point_within_half_a_pixel(mannequin: Mannequin, garment) -> None:
    """The maps the engine remaps with (coarse grid, bilinear upsampling) keep the spline's exactness."""
    pose = PersonPose(keypoints={k: Keypoint(*v) for k, v in mannequin.keypoints.items()}, mask=mannequin.mask)
    parts = fit_top(
        anchors=top_anchors(mask=garment.mask),
        body=body_from_pose(pose=pose),
        category=garment.category,
        mask=garment.mask,
    )
    assert [p.name for p in parts] == ["torso", "sleeve_l", "sleeve_r"]
    for part in parts:
        spline = tps_fit(source=part.person, target=part.garment)
        low = np.floor(part.person.min(axis=0)).astype(int) - 16
        high = np.ceil(part.person.max(axis=0)).astype(int) + 16
        box = (int(low[0]), int(low[1]), int(high[0]), int(high[1]))
        map_x, map_y = tps_dense_map(spline=spline, box=box)
        for person_point, garment_point in zip(part.person, part.garment, strict=True):
            error = np.linalg.norm(sample(map_x, map_y, person_point, box) - garment_point)
            assert error <= 0.5, (part.name, person_point, error)
