"""Thin-plate splines: a smooth map of the plane that sends each control point exactly onto its target.

Written out here (twenty lines of linear algebra) rather than taken from OpenCV's shape module, which is not in
the headless wheel, or from SciPy's RBFInterpolator, which would add SciPy to the runtime for one solve.
Dense maps are evaluated on a coarse grid and bilinearly upsampled: the spline is smooth enough between grid
nodes that the error stays far below a pixel, at a sixty-fourth of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GRID_STEP = 8


def _kernel(r2: np.ndarray) -> np.ndarray:
    # U(r) = r^2 log r^2, with U(0) = 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r2 > 0, r2 * np.log(r2), 0.0)


@dataclass(frozen=True)
class ThinPlateSpline:
    centres: np.ndarray  # n x 2, normalised source control points
    weights: np.ndarray  # (n + 3) x 2: kernel weights, then the affine part
    offset: np.ndarray  # normalisation: (p - offset) / scale
    scale: float

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Map m x 2 points (float64) through the spline."""
        p = (np.asarray(points, dtype=np.float64) - self.offset) / self.scale
        d2 = ((p[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        n = len(self.centres)
        return _kernel(d2) @ self.weights[:n] + self.weights[n] + p @ self.weights[n + 1 :]


def tps_fit(*, source: np.ndarray, target: np.ndarray, smoothing: float = 0.0) -> ThinPlateSpline:
    """The spline that maps each source point to its target (exactly when smoothing is 0)."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 3:
        raise ValueError("a thin-plate spline needs at least three matching 2-D control points")
    # Normalising keeps the system well conditioned whatever the image size.
    offset = src.mean(axis=0)
    scale = float(np.abs(src - offset).max()) or 1.0
    p = (src - offset) / scale
    n = len(p)
    k = _kernel(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)) + smoothing * np.eye(n)
    a = np.zeros((n + 3, n + 3))
    a[:n, :n] = k
    a[:n, n] = a[n, :n] = 1.0
    a[:n, n + 1 :] = p
    a[n + 1 :, :n] = p.T
    b = np.zeros((n + 3, 2))
    b[:n] = dst
    # lstsq rather than solve: collinear or repeated control points leave the system singular, and the
    # minimum-norm answer is still a sensible (affine) map.
    weights = np.linalg.lstsq(a, b, rcond=None)[0]
    return ThinPlateSpline(centres=p, weights=weights, offset=offset, scale=scale)


def tps_dense_map(
    *, spline: ThinPlateSpline, box: tuple[int, int, int, int], step: int = GRID_STEP
) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps for the pixels of box = (left, top, right, bottom), right/bottom exclusive.

    Grid nodes sit at the centres of step x step blocks, which is exactly where cv2.resize's linear
    interpolation expects its source samples, so the upsampled map is the bilinear interpolant of the nodes.
    One extra ring of blocks around the box keeps the edge pixels interpolated rather than clamped.
    """
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    nx, ny = -(-width // step) + 2, -(-height // step) + 2
    xs = left - step + (np.arange(nx) + 0.5) * step - 0.5
    ys = top - step + (np.arange(ny) + 0.5) * step - 0.5
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    mapped = spline(grid).astype(np.float32).reshape(ny, nx, 2)
    full = cv2.resize(mapped, (nx * step, ny * step), interpolation=cv2.INTER_LINEAR)
    full = full[step : step + height, step : step + width]
    return np.ascontiguousarray(full[..., 0]), np.ascontiguousarray(full[..., 1])
