"""Person photos whose garment area is masked out flat grey (the try-on papers' "agnostic" images): finding the
grey area, a copy the pose network can read, and the backdrop to repaint it with. Framework-free image work;
how the area is dressed is the engine's (engines/local/agnostic.py)."""

from __future__ import annotations

import cv2
import numpy as np

GREY = 128
_GREY_TOLERANCE = 12  # JPEG ringing around flat grey stays within this of 128 on every channel
_MAX_CAST = 6  # a neutral grey: channels this close to each other (a grey garment's dye or light has a cast)
_MAX_FLAT_STD = 3.0  # the grey area's own spread: a photographed garment has folds and shading
_MIN_PIECE = 0.02  # of the image: smaller grey pieces are a grey object, not the masked garment
_MIN_AREA = 0.05  # of the image: the masked garment covers a chest at least
SEAM = 2  # pixels the grey area grows by: its anti-aliased rim is half grey


def agnostic_mask(*, person: np.ndarray) -> np.ndarray | None:
    """The masked-out garment area (bool, the photo's size), or None for an ordinary photo. Decided on a sixteenth
    of the pixels (a photo on a grey backdrop must not cost a full-size analysis), then drawn at full size."""
    sample = np.ascontiguousarray(person[::4, ::4])
    low, high = (GREY - _GREY_TOLERANCE,) * 3, (GREY + _GREY_TOLERANCE,) * 3
    if cv2.countNonZero(cv2.inRange(sample, low, high)) < _MIN_AREA * sample.shape[0] * sample.shape[1]:
        return None  # the common case
    small = _flat_grey(sample, opening=3)
    if small is None:
        return None
    full = _flat_grey(person, opening=5)
    if full is None:
        return None
    closed = cv2.morphologyEx(full.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    return cv2.dilate(closed, np.ones((2 * SEAM + 1, 2 * SEAM + 1), np.uint8)) > 0


def grey_pixels(image: np.ndarray) -> np.ndarray:
    """The pixels of the mask's neutral mid-grey (bool), whether or not they belong to a mask."""
    signed = image.astype(np.int16)
    return (np.abs(signed - GREY).max(axis=2) <= _GREY_TOLERANCE) & (np.ptp(signed, axis=2) <= _MAX_CAST)


def _flat_grey(image: np.ndarray, *, opening: int) -> np.ndarray | None:
    """The large pieces of flat, neutral mid-grey (bool), when they cover enough of the image."""
    grey = grey_pixels(image)
    grey_u8 = cv2.morphologyEx(grey.astype(np.uint8), cv2.MORPH_OPEN, np.ones((opening, opening), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grey_u8)
    pieces = [label for label in range(1, count) if stats[label, cv2.CC_STAT_AREA] >= _MIN_PIECE * grey.size]
    if not pieces:
        return None
    mask = np.isin(labels, pieces)
    if mask.mean() < _MIN_AREA or float(image[mask].astype(np.float32).std(axis=0).max()) > _MAX_FLAT_STD:
        return None
    return mask


def pose_input(*, person: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The photo with its grey area in-painted from around it, for the pose network only."""
    small = 4  # in-painting a quarter-size copy is as good for the network and 16 times cheaper
    size = (person.shape[1] // small, person.shape[0] // small)
    filled = cv2.inpaint(
        cv2.resize(person, size, interpolation=cv2.INTER_AREA),
        cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST),
        3,
        cv2.INPAINT_TELEA,
    )
    out = person.copy()
    out[mask] = cv2.resize(filled, (person.shape[1], person.shape[0]), interpolation=cv2.INTER_LINEAR)[mask]
    return out


def backdrop(*, person: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The backdrop over the whole photo (float32 RGB): a quadratic gradient per channel fitted to the `known`
    backdrop pixels, the shape of a studio's sweep and its light fall-off."""
    height, width = known.shape
    step = 4  # a sixteenth of the pixels fixes six coefficients as well as all of them
    ys, xs = np.nonzero(known[::step, ::step])
    ys, xs = ys * step, xs * step

    def design(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u, v = x / width, y / height
        return np.stack([np.ones_like(u), u, v, u * u, v * v, u * v], axis=-1)

    out = np.empty((height, width, 3), np.float32)
    if len(xs) < 50:
        out[:] = 255.0  # nothing of the backdrop in view: a packshot's white
        return out
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    full = design(grid_x, grid_y)
    samples = design(xs.astype(np.float32), ys.astype(np.float32))
    for channel in range(3):
        coefficients, *_ = np.linalg.lstsq(samples, person[ys, xs, channel].astype(np.float32), rcond=None)
        out[..., channel] = full @ coefficients
    return np.clip(out, 0, 255)
