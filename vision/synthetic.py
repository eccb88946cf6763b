"""Synthetic garments and a synthetic mannequin with exactly known geometry.

Tests use them to check geometry to the pixel, the gallery and the benchmark use them as stand-ins for product
photos that cannot ship with the project. Garments are drawn flat on a white background, front view, the way
e-commerce flat lays and ghost-mannequin shots look; every anchor the engine detects is a polygon vertex here.
Left/right always mean the image's left/right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

Point = tuple[float, float]

_SHIFT = 4  # cv2 fixed-point bits: polygons are drawn with sub-pixel vertices.
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class SyntheticGarment:
    image: np.ndarray  # H x W x 3 RGB uint8, white background
    category: str  # "tops", "bottoms" or "dresses": the values of the engines' Category
    colour: tuple[int, int, int]
    anchors: dict[str, Point]
    mask: np.ndarray  # H x W bool, exactly the garment


@dataclass(frozen=True)
class Mannequin:
    image: np.ndarray  # H x W x 3 RGB uint8
    mask: np.ndarray  # H x W float32 in [0, 1]
    keypoints: dict[str, tuple[float, float, float]]  # MediaPipe names -> (x, y, visibility), pixels
    face: np.ndarray  # H x W bool: the head above the chin
    torso: np.ndarray  # H x W bool: shoulders to hips, arms excluded
    legs: np.ndarray  # H x W bool: hips to ankles
    regions: dict[str, np.ndarray] = field(default_factory=dict)


def _fill(canvas: np.ndarray, points: list[Point], colour: tuple[int, int, int]) -> None:
    pts = np.round(np.asarray(points, dtype=np.float64) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(canvas, [pts], colour, lineType=cv2.LINE_8, shift=_SHIFT)


def _polygon_mask(shape: tuple[int, int], points: list[Point]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    _fill(mask, points, (255, 255, 255))
    return mask > 0


def _finish(
    *,
    size: tuple[int, int],
    polygon: list[Point],
    colour: tuple[int, int, int],
    pattern: str,
    category: str,
    anchors: dict[str, Point],
    holes: list[list[Point]] | None = None,
) -> SyntheticGarment:
    width, height = size
    mask = _polygon_mask((height, width), polygon)
    for hole in holes or []:
        mask &= ~_polygon_mask((height, width), hole)
    fabric = np.empty((height, width, 3), np.uint8)
    fabric[:] = colour
    yy, xx = np.mgrid[0:height, 0:width]
    darker = tuple(int(c * 0.55) for c in colour)
    if pattern == "stripes":
        fabric[(yy // 18) % 2 == 1] = darker
    elif pattern == "dots":
        fabric[((xx % 36 - 18) ** 2 + (yy % 36 - 18) ** 2) < 36] = (250, 250, 250)
    elif pattern == "logo":
        cx = (anchors["shoulder_l"][0] + anchors["shoulder_r"][0]) / 2
        cy = anchors["armpit_l"][1] + 40
        fabric[((xx - cx) ** 2 + (yy - cy) ** 2) < 30**2] = (245, 245, 245)
    elif pattern == "denim":
        noise = np.random.default_rng(7).integers(-14, 14, (height, width, 1))
        fabric = np.clip(fabric.astype(np.int16) + noise + ((xx + yy) % 6 < 2)[..., None] * 10, 0, 255).astype(np.uint8)
    if pattern != "plain":
        # A soft vertical fold, as on a real flat lay: the engine must carry it, not be confused by it.
        fold = 1.0 - 0.12 * np.exp(-(((xx - width * 0.42) / (width * 0.05)) ** 2))
        fabric = np.clip(fabric * fold[..., None], 0, 255).astype(np.uint8)
    image = np.empty_like(fabric)
    image[:] = _WHITE
    image[mask] = fabric[mask]
    return SyntheticGarment(image=image, category=category, colour=colour, anchors=anchors, mask=mask)


def _sleeve(
    *, shoulder: Point, armpit: Point, angle_deg: float, length: float, half_cuff: float, side: int
) -> tuple[Point, Point, Point]:
    """Cuff corners and centre of a straight sleeve whose cuff is perpendicular to its axis.

    The axis starts at the midpoint of the shoulder seam (shoulder to armpit); `side` is -1 for the image-left
    sleeve, +1 for the image-right one; the angle is measured below the horizontal.
    """
    root = np.array([(shoulder[0] + armpit[0]) / 2, (shoulder[1] + armpit[1]) / 2])
    a = np.deg2rad(angle_deg)
    axis = np.array([side * np.cos(a), np.sin(a)])
    cuff = root + axis * length
    normal = np.array([-axis[1], axis[0]])
    # The corner on the shoulder's side of the axis is the upper one.
    if np.dot(np.asarray(shoulder) - root, normal) < 0:
        normal = -normal
    upper = cuff + normal * half_cuff
    lower = cuff - normal * half_cuff
    return (float(upper[0]), float(upper[1])), (float(lower[0]), float(lower[1])), (float(cuff[0]), float(cuff[1]))


def _top(*, long_sleeves: bool, colour: tuple[int, int, int], pattern: str) -> SyntheticGarment:
    size = (600, 520)
    cx = 300.0
    sh_l, sh_r = (200.0, 120.0), (400.0, 120.0)
    ap_l, ap_r = (200.0, 205.0), (400.0, 205.0)
    hem_l, hem_r = (192.0, 440.0), (408.0, 440.0)
    if long_sleeves:
        spec = {"angle_deg": 68.0, "length": 310.0, "half_cuff": 28.0}
    else:
        spec = {"angle_deg": 35.0, "length": 110.0, "half_cuff": 45.0}
    up_l, lo_l, cuff_l = _sleeve(shoulder=sh_l, armpit=ap_l, side=-1, **spec)
    up_r, lo_r, cuff_r = _sleeve(shoulder=sh_r, armpit=ap_r, side=1, **spec)
    neck_l, neck_r = (cx - 45, 100.0), (cx + 45, 100.0)
    # A round front neckline between the two neck points.
    neckline = [(cx + 45 * np.cos(t), 100.0 + 38 * np.sin(t)) for t in np.linspace(0, np.pi, 15)]
    polygon = [neck_l, sh_l, up_l, lo_l, ap_l, hem_l, hem_r, ap_r, lo_r, up_r, sh_r, neck_r]
    polygon += [(float(x), float(y)) for x, y in neckline[1:-1]]
    anchors = {
        "shoulder_l": sh_l,
        "shoulder_r": sh_r,
        "armpit_l": ap_l,
        "armpit_r": ap_r,
        "hem_l": hem_l,
        "hem_r": hem_r,
        "cuff_l": cuff_l,
        "cuff_r": cuff_r,
    }
    return _finish(size=size, polygon=polygon, colour=colour, pattern=pattern, category="tops", anchors=anchors)


def synthetic_tshirt(*, colour: tuple[int, int, int] = (200, 40, 50), pattern: str = "plain") -> SyntheticGarment:
    return _top(long_sleeves=False, colour=colour, pattern=pattern)


def synthetic_long_sleeve(*, colour: tuple[int, int, int] = (40, 110, 70), pattern: str = "plain") -> SyntheticGarment:
    return _top(long_sleeves=True, colour=colour, pattern=pattern)


def synthetic_trousers(*, colour: tuple[int, int, int] = (45, 70, 130), pattern: str = "plain") -> SyntheticGarment:
    waist_l, waist_r = (150.0, 40.0), (350.0, 40.0)
    crotch = (250.0, 180.0)
    hem_lo, hem_li = (162.0, 660.0), (236.0, 660.0)
    hem_ri, hem_ro = (264.0, 660.0), (338.0, 660.0)
    polygon = [waist_l, (138.0, 150.0), hem_lo, hem_li, crotch, hem_ri, hem_ro, (362.0, 150.0), waist_r]
    anchors = {
        "waist_l": waist_l,
        "waist_r": waist_r,
        "crotch": crotch,
        "hem_l": hem_lo,
        "hem_l_inner": hem_li,
        "hem_r_inner": hem_ri,
        "hem_r": hem_ro,
    }
    return _finish(
        size=(500, 700), polygon=polygon, colour=colour, pattern=pattern, category="bottoms", anchors=anchors
    )


def synthetic_skirt(*, colour: tuple[int, int, int] = (190, 120, 40), pattern: str = "plain") -> SyntheticGarment:
    """A knee-length A-line skirt: straight waistband, flared hem, no crotch."""
    waist_l, waist_r = (170.0, 40.0), (330.0, 40.0)
    hem_l, hem_r = (100.0, 290.0), (400.0, 290.0)
    anchors = {"waist_l": waist_l, "waist_r": waist_r, "hem_l": hem_l, "hem_r": hem_r}
    return _finish(
        size=(500, 330),
        polygon=[waist_l, hem_l, hem_r, waist_r],
        colour=colour,
        pattern=pattern,
        category="bottoms",
        anchors=anchors,
    )


def synthetic_dress(*, colour: tuple[int, int, int] = (120, 50, 140), pattern: str = "plain") -> SyntheticGarment:
    """A sleeveless A-line dress: straps, fitted bodice, flared skirt."""
    strap_l, strap_r = (218.0, 60.0), (382.0, 60.0)
    ap_l, ap_r = (205.0, 190.0), (395.0, 190.0)
    waist_l, waist_r = (215.0, 330.0), (385.0, 330.0)
    hem_l, hem_r = (120.0, 800.0), (480.0, 800.0)
    # Each strap's outer edge runs into an armhole that scoops in before the armpit.
    polygon = [
        (244.0, 60.0),
        strap_l,
        (232.0, 140.0),
        ap_l,
        waist_l,
        hem_l,
        hem_r,
        waist_r,
        ap_r,
        (368.0, 140.0),
        strap_r,
        (356.0, 60.0),
        (336.0, 105.0),
        (300.0, 125.0),
        (264.0, 105.0),
    ]
    anchors = {
        "shoulder_l": strap_l,
        "shoulder_r": strap_r,
        "armpit_l": ap_l,
        "armpit_r": ap_r,
        "hem_l": hem_l,
        "hem_r": hem_r,
    }
    return _finish(
        size=(600, 860), polygon=polygon, colour=colour, pattern=pattern, category="dresses", anchors=anchors
    )


_MANNEQUIN_KEYPOINTS: dict[str, Point] = {
    "nose": (384, 122),
    "left_eye_inner": (394, 106),
    "left_eye": (402, 106),
    "left_eye_outer": (410, 106),
    "right_eye_inner": (374, 106),
    "right_eye": (366, 106),
    "right_eye_outer": (358, 106),
    "left_ear": (426, 114),
    "right_ear": (342, 114),
    "mouth_left": (397, 142),
    "mouth_right": (371, 142),
    "left_shoulder": (474, 236),
    "right_shoulder": (294, 236),
    "left_elbow": (508, 372),
    "right_elbow": (260, 372),
    "left_wrist": (522, 498),
    "right_wrist": (246, 498),
    "left_pinky": (526, 538),
    "right_pinky": (242, 538),
    "left_index": (520, 544),
    "right_index": (248, 544),
    "left_thumb": (514, 530),
    "right_thumb": (254, 530),
    "left_hip": (436, 506),
    "right_hip": (332, 506),
    "left_knee": (442, 726),
    "right_knee": (326, 726),
    "left_ankle": (446, 930),
    "right_ankle": (322, 930),
    "left_heel": (446, 950),
    "right_heel": (322, 950),
    "left_foot_index": (462, 972),
    "right_foot_index": (306, 972),
}


def _limb(canvas: np.ndarray, a: Point, b: Point, r_a: float, r_b: float, colour: tuple[int, int, int]) -> None:
    pa, pb = np.asarray(a, float), np.asarray(b, float)
    d = (pb - pa) / np.linalg.norm(pb - pa)
    n = np.array([-d[1], d[0]])
    quad = [tuple(pa + n * r_a), tuple(pb + n * r_b), tuple(pb - n * r_b), tuple(pa - n * r_a)]
    _fill(canvas, quad, colour)
    cv2.circle(canvas, (round(a[0]), round(a[1])), round(r_a), colour, -1)
    cv2.circle(canvas, (round(b[0]), round(b[1])), round(r_b), colour, -1)


def synthetic_mannequin(
    *, background: tuple[int, int, int] = (232, 232, 236), forearm_across: bool = False
) -> Mannequin:
    """A 768 x 1024 front-facing figure: skin-coloured head and limbs, a blue-grey top, dark trousers.

    With `forearm_across`, the image-left forearm rests across the belly, in front of the top.
    """
    height, width = 1024, 768
    kp = dict(_MANNEQUIN_KEYPOINTS)
    if forearm_across:
        kp.update(
            {"right_wrist": (420, 440), "right_index": (462, 444), "right_pinky": (456, 452), "right_thumb": (450, 430)}
        )
    skin, top, trousers, shoes = (222, 178, 146), (92, 112, 160), (58, 58, 70), (30, 30, 30)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = background
    layers = {name: np.zeros((height, width, 3), np.uint8) for name in ("head", "arms", "torso", "legs", "feet")}
    white = (255, 255, 255)
    torso_poly = [
        (282.0, 226.0),
        (486.0, 226.0),
        (470.0, 300.0),
        (452.0, 420.0),
        (470.0, 530.0),
        (298.0, 530.0),
        (316.0, 420.0),
        (298.0, 300.0),
    ]
    _fill(layers["torso"], torso_poly, white)
    for side in ("left", "right"):
        _limb(layers["legs"], kp[f"{side}_hip"], kp[f"{side}_knee"], 46, 34, white)
        _limb(layers["legs"], kp[f"{side}_knee"], kp[f"{side}_ankle"], 34, 22, white)
        _limb(layers["arms"], kp[f"{side}_shoulder"], kp[f"{side}_elbow"], 24, 19, white)
        _limb(layers["arms"], kp[f"{side}_elbow"], kp[f"{side}_wrist"], 19, 14, white)
        hand = np.mean([kp[f"{side}_wrist"], kp[f"{side}_index"], kp[f"{side}_pinky"]], axis=0)
        cv2.circle(layers["arms"], (round(hand[0]), round(hand[1])), 20, white, -1)
        cv2.ellipse(layers["feet"], (round(kp[f"{side}_foot_index"][0]), 960), (28, 14), 0, 0, 360, white, -1)
    cv2.ellipse(layers["head"], (384, 118), (46, 60), 0, 0, 360, white, -1)
    cv2.rectangle(layers["head"], (366, 170), (402, 232), white, -1)
    masks = {name: layer[..., 0] > 0 for name, layer in layers.items()}
    masks["legs"] &= ~masks["torso"]
    for name, colour in (("legs", trousers), ("feet", shoes), ("torso", top), ("arms", skin), ("head", skin)):
        image[masks[name]] = colour
    # Eyes and mouth, so the face is not a flat disc.
    for x, y in (kp["left_eye"], kp["right_eye"]):
        cv2.circle(image, (round(x), round(y)), 5, (40, 40, 40), -1)
    cv2.line(image, (371, 142), (397, 142), (150, 70, 70), 3)
    body = masks["head"] | masks["arms"] | masks["torso"] | masks["legs"] | masks["feet"]
    keypoints = {name: (float(x), float(y), 1.0) for name, (x, y) in kp.items()}
    torso = masks["torso"] & ~masks["arms"]
    legs = masks["legs"] & ~masks["arms"]
    legs[: int(kp["left_hip"][1])] = False
    legs[int(kp["left_ankle"][1]) :] = False
    face = np.zeros((height, width), np.uint8)
    cv2.ellipse(face, (384, 118), (46, 60), 0, 0, 360, 255, -1)
    return Mannequin(
        image=image,
        mask=body.astype(np.float32),
        keypoints=keypoints,
        face=face > 0,
        torso=torso,
        legs=legs,
        regions=masks,
    )
