"""Replacement, not overlay: the shopper's old garment is found, and what the new one leaves of it is replaced.

The fitted product covers most of the old garment but never exactly: the old top is wider at the sides, longer at
the hem, higher at the neckline or around the straps. Left alone those pixels read as the old garment showing
around the new one, which is what makes a merchant refuse a result. So the old garment is located on the photo
(its colours learnt from the middle of the torso or the thighs, grown over the pixels of those colours that touch
it, within the rows the category can reach), and every pixel of it the new garment does not cover becomes:

- **the new garment** beside it and past its hem (a top) or above its waistband (trousers), up to a seventh of
  the torso's length away: the garment's own nearest colour carried across, with the photo's light and shade,
  so the new garment takes the shopper's fit (further away, e.g. an old dress below a new top, the old garment
  reads as worn beneath and stays);
- **skin** above its neckline and beside its straps, and over the legs below the hem of shorts: the shopper's
  own skin colour (learnt from the face, carried from bare skin close by) with the photo's shading, which is
  what lies beneath (below a dress's hem the old trousers stay: a dress worn over them);
- **background** where a longer old skirt or dress spanned the gap between the legs below the new hem.

Arms are handled by `restore.restore_arms` (old sleeves beyond new ones); the face never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.base import Category
from engines.local.body import Body
from engines.local.restore import SkinModel, paint_skin, soft_blur

_PALETTE_SIZE = 3  # k-means clusters of the seed band's colours
_PALETTE_SHARE = 0.15  # a cluster holding less of the seed band is a print or a shadow, not the garment
_NEAR_DELTA_E = 22.0  # Lab distance (OpenCV 8-bit scale) within which a pixel has one of the old garment's colours
_SKIN_DISTANCE = 3.0  # the skin model's distance under which a pixel is bare skin (never old garment)
_MIN_OLD_PIXELS = 64  # fewer uncovered old-garment pixels than this are edge noise
_SAMPLE = 4000  # seed pixels given to k-means
_MAX_HEM_EXTENSION = 0.04  # below the new hem
_BUSY_TEXTURE = 10.0  # grey levels of median local contrast at which no light and shade is carried at all
_MAX_GAP = 0.05  # shoulder widths squared: the largest enclosed gap in the old garment taken as its print
_ANKLE_SEAM = 0.03  # torso lengths above the ankle joints where the feet (shoes) begin
_MAX_EXTENSION = 0.15  # in torso lengths: the furthest the new garment is carried over what is left of the old


@dataclass(frozen=True)
class Conformed:
    image: np.ndarray
    changed: np.ndarray  # bool, the pixels this step changed
    garment_px: int
    skin_px: int
    background_px: int = 0


def _coordinates(body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Depth down the torso axis and offset across it, in pixels, for every pixel."""
    height, width = body.mask.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - np.float32(body.shoulder_mid[0]), ys - np.float32(body.shoulder_mid[1])
    depth = dx * np.float32(body.down[0]) + dy * np.float32(body.down[1])
    across = dx * np.float32(body.across[0]) + dy * np.float32(body.across[1])
    return depth, across


def _palette(lab: np.ndarray) -> np.ndarray:
    """The main colours (Lab) of a set of pixels: k-means, clusters under a share dropped."""
    if len(lab) < 50:
        return np.zeros((0, 3), np.float32)
    step = max(1, len(lab) // _SAMPLE)
    sample = np.ascontiguousarray(lab[::step], np.float32)
    k = min(_PALETTE_SIZE, len(sample))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    # Fixed seeding (KMEANS_PP with OpenCV's default RNG state reset) keeps the result deterministic.
    cv2.setRNGSeed(7)
    _, labels, centres = cv2.kmeans(sample, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=k) / len(sample)
    return centres[shares >= _PALETTE_SHARE].astype(np.float32)


def _near(lab: np.ndarray, colours: np.ndarray) -> np.ndarray:
    near = np.zeros(lab.shape[:2], bool)
    for colour in colours:
        near |= np.linalg.norm(lab - colour, axis=2) < _NEAR_DELTA_E
    return near


def _thighs(body: Body) -> np.ndarray:
    seed = np.zeros(body.mask.shape, np.uint8)
    radius = max(2, round(0.12 * body.width))
    for leg in (body.leg_l, body.leg_r):
        a = leg.root + (leg.middle - leg.root) * 0.2
        b = leg.root + (leg.middle - leg.root) * 0.7
        cv2.line(seed, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 1, 2 * radius)
    return seed > 0


def _legs(body: Body) -> np.ndarray:
    """Where the legs themselves are (capsules hip-knee-ankle a leg wide): below a hem the old garment that lay
    over them turns to skin, while the part of it that spanned the gap between them becomes background."""
    legs = np.zeros(body.mask.shape, np.uint8)
    for leg in (body.leg_l, body.leg_r):
        for a, b, radius in ((leg.root, leg.middle, 0.17), (leg.middle, leg.end, 0.12)):
            cv2.line(
                legs, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 1, max(2, round(2 * radius * body.width))
            )
            cv2.circle(legs, (round(b[0]), round(b[1])), max(1, round(radius * body.width)), 1, -1)
    return (legs > 0) & body.mask


def _feet(body: Body, depth: np.ndarray) -> np.ndarray:
    """Below the ankles (less a seam): shoes, which a dark old trouser colour can match but never are the old
    garment; painted as skin or backdrop they came out as pale blobs. `depth`: `_coordinates`' first."""
    ankles = [leg.end for leg in (body.leg_l, body.leg_r) if leg.end_visible]
    if len(ankles) < 2:
        return np.zeros(body.mask.shape, bool)
    return depth > min(body.depth_of(ankle) for ankle in ankles) - _ANKLE_SEAM * body.torso


def bare_skin(*, person: np.ndarray, skin: SkinModel | None, within: np.ndarray | None = None) -> np.ndarray:
    """The pixels of the shopper's own skin colour (bool, full size), looked for only inside the bounding box of
    `within` when given (the person); none without a skin model."""
    found = np.zeros(person.shape[:2], bool)
    if skin is None or (within is not None and not within.any()):
        return found
    rows, cols = _box(within, 2) if within is not None else (slice(None), slice(None))
    found[rows, cols] = skin.distance(cv2.cvtColor(person[rows, cols], cv2.COLOR_RGB2YCrCb)) < _SKIN_DISTANCE
    return found


def _box(mask: np.ndarray, margin: float) -> tuple[slice, slice]:
    """The rows and columns of `mask`'s bounding box grown by `margin` pixels, clipped to the image."""
    ys, xs = np.nonzero(mask)
    pad = int(np.ceil(margin))
    height, width = mask.shape
    return (
        slice(max(0, int(ys.min()) - pad), min(height, int(ys.max()) + 1 + pad)),
        slice(max(0, int(xs.min()) - pad), min(width, int(xs.max()) + 1 + pad)),
    )


def old_garment(
    *,
    person: np.ndarray,
    body: Body,
    category: Category,
    skin: SkinModel | None,
    protected: np.ndarray,
    bare: np.ndarray | None = None,
) -> np.ndarray:
    """Where the garment the new one replaces is on the photo (bool, full size): the upper one for tops, the lower
    one for bottoms, both for dresses. Empty when it cannot be told (no seed pixels of a garment colour).
    `bare`: the shopper's skin pixels, when already known."""
    lab = cv2.cvtColor(person, cv2.COLOR_RGB2LAB).astype(np.float32)
    if bare is None:
        bare = bare_skin(person=person, skin=skin, within=body.mask)
    depth, across = _coordinates(body)
    hips = body.depth_of(body.hip_mid)
    candidates = body.mask & ~bare & ~protected
    found = np.zeros(body.mask.shape, bool)
    seeds: list[tuple[np.ndarray, np.ndarray]] = []
    if category != Category.BOTTOMS:
        torso_seed = (depth > 0.2 * body.torso) & (depth < 0.6 * body.torso) & (np.abs(across) < 0.3 * body.width)
        # Above the shoulders only beside the neck (the shoulders' seams); over the head is hair.
        upper_zone = (depth > -0.12 * body.torso) & ((depth > -0.1 * body.torso) | (np.abs(across) > 0.3 * body.width))
        upper_zone &= depth < hips + 0.35 * body.torso
        seeds.append((torso_seed & body.trunk, upper_zone))
    if category in (Category.BOTTOMS, Category.DRESSES):
        seeds.append((_thighs(body) & body.mask, depth > hips - 0.45 * body.torso))
    for seed, zone in seeds:
        colours = _palette(lab[seed & candidates])
        if not len(colours):
            continue
        near = _near(lab, colours) & candidates & zone
        near = cv2.morphologyEx(near.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)) > 0
        near &= candidates & zone
        # Only what is connected to the seed: a bag, a background object or the other garment of a similar colour
        # elsewhere in the rows stays as it is.
        count, labels = cv2.connectedComponents(near.astype(np.uint8), connectivity=8)
        touching = np.unique(labels[seed & near])
        found |= np.isin(labels, touching[touching > 0]) if count > 1 else near
    # Skin-like pixels inside small gaps are the print's pink or beige motifs, not skin showing through.
    return _fill_gaps(found, allowed=body.mask & ~protected, max_area=_MAX_GAP * body.width * body.width)


def _fill_gaps(found: np.ndarray, *, allowed: np.ndarray, max_area: float) -> np.ndarray:
    """`found` with the small gaps it encloses filled: a print's minor colours (a geometric pattern's black
    motifs, under a palette cluster's share) are the same garment, and left alone they showed through the new one
    as a scatter of the old print."""
    if not found.any():
        return found
    _, labels, stats, _ = cv2.connectedComponentsWithStats((~found).astype(np.uint8), connectivity=4)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] <= max_area)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    gaps = np.isin(labels, np.setdiff1d(small, border)) & allowed
    return found | gaps


def _nearest_fill(*, image: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`image` with every `target` pixel given the colour of the nearest `source` pixel."""
    # distanceTransformWithLabels labels each zero pixel of its input and gives every other pixel the label of
    # the nearest one: a nearest-neighbour copy in linear time.
    holes = (~source).astype(np.uint8)
    _, labels = cv2.distanceTransformWithLabels(holes, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    flat_labels = labels.ravel()
    zeros = np.flatnonzero(holes.ravel() == 0)
    lookup = np.zeros(int(flat_labels.max()) + 1, np.int64)
    lookup[flat_labels[zeros]] = zeros
    out = image.copy()
    flat = out.reshape(-1, 3)
    wanted = np.flatnonzero(target.ravel())
    flat[wanted] = image.reshape(-1, 3)[lookup[flat_labels[wanted]]]
    return out


def _edge_rows(covered: np.ndarray, *, top: bool) -> np.ndarray:
    """Per column, the first (top) or last (bottom) covered row; columns without garment are interpolated from
    their neighbours so a gap between straps or legs does not count as 'no garment here'."""
    height, width = covered.shape
    has = covered.any(axis=0)
    if not has.any():
        return np.full(width, height if top else -1, np.float32)
    rows = np.argmax(covered, axis=0) if top else height - 1 - np.argmax(covered[::-1], axis=0)
    columns = np.arange(width)
    return np.interp(columns, columns[has], rows[has]).astype(np.float32)


def _carry_bare_skin(
    *,
    image: np.ndarray,
    person: np.ndarray,
    region: np.ndarray,
    skin: SkinModel,
    body: Body,
    protected: np.ndarray,
    bare: np.ndarray,
) -> np.ndarray:
    """Painted skin (`region`) given the colour and light of the shopper's own bare skin next to it (the neck above a
    neckline, the shoulders beside straps), where there is some close by: one flat skin colour over a chest reads
    as a patch. The painted pixels' own shading is kept on top; further from bare skin the painted colour stays."""
    if not region.any():
        return image
    reach = 0.35 * body.width
    rows, cols = _box(region, reach)  # all the work is within reach of the painted pixels
    own = region[rows, cols]
    source = bare[rows, cols] & body.mask[rows, cols] & ~protected[rows, cols] & ~own
    source = cv2.erode(source.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # edge pixels are mixed with cloth
    if source.sum() < 200:
        return image
    distance = cv2.distanceTransform((~source).astype(np.uint8), cv2.DIST_L2, 3)
    near = own & (distance < reach)
    if not near.any():
        return image
    carried = _nearest_fill(image=person[rows, cols], source=source, target=near).astype(np.float32)
    sigma = max(2.0, 0.03 * body.width)
    inside = near.astype(np.float32)
    carried = soft_blur(carried * inside[..., None], sigma) / np.maximum(soft_blur(inside, sigma), 1e-3)[..., None]
    patch = image[rows, cols]
    painted = patch.astype(np.float32)
    # The painted pixel's lightness relative to the plain skin colour is its shading: carry that over too.
    grey = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY).astype(np.float32)
    plain = np.array([[skin.lab]], np.uint8)
    flat = float(cv2.cvtColor(plain, cv2.COLOR_LAB2RGB).astype(np.float32).mean())
    shade = np.clip((grey + 16.0) / (flat + 16.0), 0.85, 1.15)[..., None]
    weight = (np.clip(1.0 - distance / reach, 0.0, 1.0) * near)[..., None]
    mixed = painted * (1.0 - weight) + carried * shade * weight
    out = image.copy()
    out[rows, cols] = np.where(near[..., None], np.clip(mixed + 0.5, 0, 255).astype(np.uint8), patch)
    return out


def conform(
    *,
    image: np.ndarray,
    person: np.ndarray,
    covered: np.ndarray,
    body: Body,
    category: Category,
    skin: SkinModel | None,
    protected: np.ndarray,
) -> Conformed:
    """Replace what the new garment (`covered`, bool full size) leaves of the old one in `image`."""
    none = Conformed(image=image, changed=np.zeros(covered.shape, bool), garment_px=0, skin_px=0)
    bare = bare_skin(person=person, skin=skin, within=body.mask)
    old = old_garment(person=person, body=body, category=category, skin=skin, protected=protected, bare=bare)
    # Arms belong to restore_arms for tops (old sleeves become arms); a dress's or trousers' arm-side pixels are
    # hands and sleeves resting on it, which are not this garment.
    reach, depth = body.trunk, _coordinates(body)[0]
    if category == Category.BOTTOMS:
        # A hand in a pocket or resting on the hip lies over the trousers: what of the old trousers shows around
        # it (bare skin is never old garment) is replaced as well.
        reach = body.trunk | (body.mask & (depth > body.depth_of(body.hip_mid) - 0.15 * body.torso))
    left = old & ~covered & ~protected & reach & ~_feet(body, depth)
    if left.sum() < _MIN_OLD_PIXELS or not covered.any():
        return none
    height = covered.shape[0]
    rows = np.arange(height, dtype=np.float32)[:, None]
    above = rows < _edge_rows(covered, top=True)[None, :]
    below = rows > _edge_rows(covered, top=False)[None, :]
    legs = _legs(body) if category in (Category.BOTTOMS, Category.DRESSES) else None
    to_background = np.zeros_like(left)
    if category == Category.BOTTOMS and legs is not None:
        to_skin = left & below & legs
        to_background = left & below & ~legs
    elif category == Category.DRESSES and legs is not None:
        # Below a dress's hem the old trousers stay (a dress worn over them); only an old skirt or dress that
        # spanned the gap between the legs gives way to the background there.
        to_skin = left & above
        to_background = left & below & ~legs
    else:
        to_skin = left & above
    to_garment = left & ~to_skin & ~to_background
    # Carrying the garment's colour works across a seam's width, not a skirt's length: further than this from the
    # new garment (an old dress below a new top) the old garment reads as worn beneath it and stays.
    distance = cv2.distanceTransform((~covered).astype(np.uint8), cv2.DIST_L2, 3)
    to_garment &= distance <= _MAX_EXTENSION * body.torso
    # Below the hem only a seam's width: a longer old top tucked into trousers, carried over, reads as a smear of
    # the new colour on the waistband rather than as the new top.
    to_garment &= ~below | (distance <= _MAX_HEM_EXTENSION * body.torso)
    out = image
    if to_background.any():
        # A longer old skirt or dress spanned the gap between the legs: what lies behind it is the background,
        # carried in from the nearest pixel outside the person and softened so it does not streak.
        outside = ~cv2.dilate(body.mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if outside.any():
            filled = _nearest_fill(image=out, source=outside, target=to_background)
            smooth = cv2.GaussianBlur(filled, (0, 0), max(2.0, 0.03 * body.width))
            out = np.where(to_background[..., None], smooth, out)
        else:
            to_background[:] = False
    if to_garment.any():
        # Carried from a few pixels inside the garment: its soft edge is part old garment, and copying those
        # mixed pixels outwards draws streaks.
        inner = cv2.erode(covered.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        filled = _nearest_fill(image=image, source=inner if inner.any() else covered, target=to_garment)
        # The carried colour takes the photo's light and shade, so the extension is not a flat smear. Only the
        # extension's box (and the blur's reach around it) is worked on.
        sigma = max(2.0, 0.06 * body.width)
        box_rows, box_cols = _box(to_garment, 3 * sigma)
        target = to_garment[box_rows, box_cols]
        grey = cv2.cvtColor(person[box_rows, box_cols], cv2.COLOR_RGB2GRAY).astype(np.float32)
        local = soft_blur(grey, sigma)
        gain = np.clip((cv2.GaussianBlur(grey, (0, 0), 1.5) + 16.0) / (local + 16.0), 0.85, 1.1)
        # Folds and shadows are soft; a print's motifs are sharp and would print through as a ghost of the old
        # garment. The busier the old garment under the extension, the less of its light and shade is carried.
        texture = float(np.median(np.abs(cv2.GaussianBlur(grey, (0, 0), 1.5) - local)[target])) if target.any() else 0
        gain = 1.0 + (gain - 1.0) * float(np.clip(1.0 - texture / _BUSY_TEXTURE, 0.0, 1.0))
        weight = cv2.GaussianBlur(target.astype(np.float32), (0, 0), 1.0)
        free = ~covered[box_rows, box_cols] & ~protected[box_rows, box_cols]
        weight = np.where(target, 1.0, np.clip(weight * 2.0, 0.0, 1.0) * free)[..., None]
        shaded = filled[box_rows, box_cols].astype(np.float32) * gain[..., None]
        blended = out[box_rows, box_cols].astype(np.float32) * (1.0 - weight) + shaded * weight
        out = out.copy()
        out[box_rows, box_cols] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        to_garment = np.zeros_like(to_garment)
        to_garment[box_rows, box_cols] = weight[..., 0] > 0
    skin_px = 0
    if to_skin.any() and skin is not None:
        out, painted = paint_skin(image=out, person=person, region=to_skin, model=skin, body=body, protected=protected)
        out = _carry_bare_skin(
            image=out, person=person, region=painted, skin=skin, body=body, protected=protected, bare=bare
        )
        skin_px = int(painted.sum())
        to_skin = painted
    else:
        to_skin = np.zeros_like(to_skin)
    changed = (to_garment | to_skin | to_background) & (out != image).any(axis=2)
    return Conformed(
        image=out,
        changed=changed,
        garment_px=int(to_garment.sum()),
        skin_px=skin_px,
        background_px=int(to_background.sum()),
    )
