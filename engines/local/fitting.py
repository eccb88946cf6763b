"""Where each garment anchor goes on the person: control-point pairs for the thin-plate-spline warps.

Lengths come from the garment: it is scaled so its shoulders (or waist) match the person's and keeps its own
proportions down the body, clamped to what its category allows (a top ends around the hips, a dress between
knees and ankles). Widths come from the person: a flat lay shows half a garment's circumference, far wider
than the body it wraps looks from the front, so the body, sleeves and legs take the person's silhouette plus a
little ease, and the flat width only sets a floor. That also covers the garment underneath wherever the photo
shows it.

A garment is cut into parts, each warped by its own spline: a sleeve swings about the shoulder independently of
the body, which one spline across the whole garment could only do by folding the fabric between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from engines.base import Category, EngineError, EngineErrorCode
from engines.local.anchors import BottomAnchors, Sleeve, TopAnchors
from engines.local.body import Body, Limb

# Garment shoulder seams sit a little outside and above the shoulder joints MediaPipe reports.
_SHOULDER_OUT, _SHOULDER_UP = 0.05, 0.06
_WAIST_ABOVE_HIPS = 0.2  # of the torso length
_EASE = 1.07  # a worn garment stands this much wider than the body under it
# A top ends around the hips: a flat lay read a little long (a misplaced hem corner, a tail) would otherwise run
# down over the trousers or skirt, which then look replaced by a dress.
_TOP_HEM_MAX = 1.2
_FLAT_TO_WORN = 0.72  # seen from the front, a garment shows about this much of its flat width
_MAX_STRETCH = 1.4  # the most a garment's worn width may exceed its flat-lay width (a bulky person)

Radii = Callable[[np.ndarray, np.ndarray, float, float], tuple[float, float]]


@dataclass(frozen=True)
class Part:
    name: str  # "torso", "sleeve_l", "sleeve_r", "legs"
    garment: np.ndarray  # n x 2 control points on the garment cut-out
    person: np.ndarray  # n x 2 where they go on the person
    region: np.ndarray  # bool mask of the garment pixels this part carries
    over_arms: bool  # drawn in front of the forearms (sleeves) or behind them (torso, legs)
    hangs: bool = False  # a skirt or a dress's skirt: it spans the gap between the legs


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _worn(flat_half: float, measured_half: float) -> float:
    """Half-width of a worn garment from its flat half-width and the body's (0 when not measured)."""
    if measured_half <= 0:
        return flat_half
    return float(np.clip(measured_half * _EASE, flat_half * _FLAT_TO_WORN, flat_half * _MAX_STRETCH))


def _outward_normal(direction: np.ndarray, *, away_from: np.ndarray) -> np.ndarray:
    normal = np.array([-direction[1], direction[0]])
    return -normal if np.dot(normal, away_from) > 0 else normal


def _stations(*, start: np.ndarray, limb: Limb, length: float) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(distance, point, direction) along start -> elbow/knee -> wrist/ankle where a tube is pinned."""
    first, second = limb.middle - start, limb.end - limb.middle
    l1, l2 = float(np.linalg.norm(first)), float(np.linalg.norm(second))
    d1, d2 = _unit(first), _unit(second)
    stops = [length / 2, length]
    if l1 < length - 0.05 * (l1 + l2):
        stops = [l1 / 2, l1, (l1 + length) / 2, length]
    result = []
    for t in stops:
        if t <= l1:
            result.append((t, start + d1 * t, d1 if t < l1 else _unit(d1 + d2)))
        else:
            result.append((t, limb.middle + d2 * (t - l1), d2))
    return result


def _cross_section(centre: np.ndarray, normal: np.ndarray, edge: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where the line through `centre` along `normal` meets the (extended) edge line."""
    start, end = edge
    along = end - start
    matrix = np.array([normal, -along]).T
    if abs(np.linalg.det(matrix)) < 1e-9:
        return (start + end) / 2
    s, _ = np.linalg.solve(matrix, start - centre)
    return centre + normal * s


def _tube(
    *,
    outer: tuple[np.ndarray, np.ndarray],
    inner: tuple[np.ndarray, np.ndarray],
    end_outer: np.ndarray,
    end_inner: np.ndarray,
    limb: Limb,
    scale: float,
    away_from: np.ndarray,
    radii: Radii,
    overshoot: float = 0.0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Control points of a sleeve or trouser leg laid along a limb, bending where it bends.

    `outer` and `inner` pair the tube's top corners on the garment with their places on the person; end_* are
    the garment's far corners. Cross-sections are taken square to the tube's axis on both sides: the top of a
    tube is cut on the slant (shoulder to armpit, waist to crotch), and pairing points along the slant would
    shear the fabric. `radii(point, normal, flat_outer, flat_inner)` gives the worn half-widths at a station.
    """
    (g_outer, p_outer), (g_inner, p_inner) = outer, inner
    g_root, p_root = (g_outer + g_inner) / 2, (p_outer + p_inner) / 2
    g_end = (end_outer + end_inner) / 2
    g_axis = _unit(g_end - g_root)
    g_normal = np.array([-g_axis[1], g_axis[0]])
    if np.dot(g_normal, g_outer - g_inner) < 0:
        g_normal = -g_normal
    garment_length = float(np.linalg.norm(g_end - g_root)) * scale
    path = float(np.linalg.norm(limb.middle - p_root) + np.linalg.norm(limb.end - limb.middle))
    # A sleeve or leg that nearly reaches the wrist or ankle is meant to: it ends there (a trouser leg a little
    # below the ankle joint, over the top of the foot).
    length = path * (1 + overshoot) if garment_length >= 0.8 * path else garment_length
    garment_points, person_points = [g_outer, g_inner], [p_outer, p_inner]
    for t, point, direction in _stations(start=p_root, limb=limb, length=length):
        centre = g_root + (g_end - g_root) * (t / length)
        g_o = _cross_section(centre, g_normal, (g_outer, end_outer))
        g_i = _cross_section(centre, g_normal, (g_inner, end_inner))
        normal = _outward_normal(direction, away_from=away_from)
        r_outer, r_inner = radii(
            point, normal, float(np.linalg.norm(g_o - centre)) * scale, float(np.linalg.norm(g_i - centre)) * scale
        )
        garment_points += [g_o, g_i]
        person_points += [point + normal * r_outer, point - normal * r_inner]
    return garment_points, person_points


def _main_piece(region: np.ndarray) -> np.ndarray:
    """The region's largest solid piece: slivers left along a cut would be flung far away by the warp."""
    opened = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=4)
    if count <= 1:
        return region
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _frame(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    across = _unit(right - left)
    return (left + right) / 2, across, np.array([-across[1], across[0]]), float(np.linalg.norm(right - left))


def _hem_bounds(category: Category, body: Body) -> tuple[float, float]:
    """Allowed depth of a top's or dress's hem below the shoulder line."""
    hips = body.torso
    knees = max(float(np.mean([body.depth_of(leg.middle) for leg in (body.leg_l, body.leg_r)])), hips * 1.6)
    ankles = max(float(np.mean([body.depth_of(leg.end) for leg in (body.leg_l, body.leg_r)])), hips * 2.4)
    if category == Category.DRESSES:
        return knees, ankles
    if category == Category.OUTERWEAR:
        return 0.8 * hips, ankles
    return 0.8 * hips, _TOP_HEM_MAX * hips


def _shoulder_rise(body: Body, *, side: int) -> float:
    """How far above the shoulder joint the garment's shoulder seam goes: up to the top of the silhouette.

    The joint sits well inside the body, and how far below the visible shoulder line depends on build and on
    what the person wears (a padded jacket, a spacesuit); following the silhouette covers it.
    """
    default = _SHOULDER_UP * body.width
    joint = body.shoulder_l if side < 0 else body.shoulder_r
    start = joint + side * body.across * _SHOULDER_OUT * body.width
    steps = np.arange(0.0, 0.3 * body.width, 1.0)
    points = np.round(start[None, :] - steps[:, None] * body.down[None, :]).astype(int)
    width, height = body.size
    inside = (points[:, 0] >= 0) & (points[:, 1] >= 0) & (points[:, 0] < width) & (points[:, 1] < height)
    hit = np.zeros(len(steps), bool)
    hit[inside] = body.mask[points[inside, 1], points[inside, 0]]
    if not hit[0] or hit.all():
        return default  # the joint is at the mask's edge, or the silhouette runs on upwards (hair, a raised arm)
    top = float(steps[int(np.argmin(hit))])
    return float(np.clip(top - 0.02 * body.width, 0.03 * body.width, 0.25 * body.width))


def fit_top(*, anchors: TopAnchors, body: Body, category: Category, mask: np.ndarray) -> list[Part]:
    """Parts of a top, an outerwear piece or a dress: the body from the shoulders down, sleeves along the arms."""
    g_origin, g_across, g_down, g_width = _frame(anchors.shoulder_l, anchors.shoulder_r)
    rise_l, rise_r = _shoulder_rise(body, side=-1), _shoulder_rise(body, side=1)
    up = body.down * (rise_l + rise_r) / 2
    if anchors.sleeve_l is None and anchors.sleeve_r is None:
        # Straps sit inside the shoulders: scale by the bust instead, measured where the armpits are.
        chest_l, chest_r = body.extents(body.axis_point(0.3 * body.torso), reach=0.62 * body.width)
        chest = (chest_l + chest_r) * _EASE if chest_l > 0 and chest_r > 0 else 0.9 * body.width
        flat_chest = float(np.dot(anchors.armpit_r - anchors.armpit_l, g_across)) * _FLAT_TO_WORN
        scale = float(np.clip(chest / flat_chest, 0.5 / g_width * body.width, 1.1 * body.width / g_width))
        centre = body.shoulder_mid - up
        p_shoulder_l = centre + body.across * float(np.dot(anchors.shoulder_l - g_origin, g_across)) * scale
        p_shoulder_r = centre + body.across * float(np.dot(anchors.shoulder_r - g_origin, g_across)) * scale
    else:
        scale = body.width * (1 + 2 * _SHOULDER_OUT) / g_width
        p_shoulder_l = body.shoulder_l - body.across * _SHOULDER_OUT * body.width - body.down * rise_l
        p_shoulder_r = body.shoulder_r + body.across * _SHOULDER_OUT * body.width - body.down * rise_r
    base = body.depth_of((p_shoulder_l + p_shoulder_r) / 2)

    def depth(point: np.ndarray) -> float:
        return float(np.dot(point - g_origin, g_down)) * scale

    armpit_depth = (depth(anchors.armpit_l) + depth(anchors.armpit_r)) / 2
    hem_depth = (depth(anchors.hem_l) + depth(anchors.hem_r)) / 2
    low, high = _hem_bounds(category, body)
    wanted = float(np.clip(base + hem_depth, low, high)) - base
    stretch = (wanted - armpit_depth) / max(hem_depth - armpit_depth, 1.0)

    def row(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person targets for two garment side points level with each other."""
        d = depth((left + right) / 2)
        d = armpit_depth + (d - armpit_depth) * stretch if d > armpit_depth else d
        centre = body.axis_point(base + d)
        reach = 0.75 * body.width if base + d > 0.7 * body.torso else 0.62 * body.width
        trunk_l, trunk_r = body.extents(centre, reach=reach)
        half_l = _worn(float(np.dot(g_origin - left, g_across)) * scale, trunk_l)
        half_r = _worn(float(np.dot(right - g_origin, g_across)) * scale, trunk_r)
        return centre - body.across * half_l, centre + body.across * half_r

    p_armpit_l, p_armpit_r = row(anchors.armpit_l, anchors.armpit_r)
    g_mid_l, g_mid_r = (anchors.armpit_l + anchors.hem_l) / 2, (anchors.armpit_r + anchors.hem_r) / 2
    p_mid_l, p_mid_r = row(g_mid_l, g_mid_r)
    p_hem_l, p_hem_r = row(anchors.hem_l, anchors.hem_r)
    garment = [
        anchors.shoulder_l,
        anchors.shoulder_r,
        anchors.armpit_l,
        anchors.armpit_r,
        g_mid_l,
        g_mid_r,
        anchors.hem_l,
        anchors.hem_r,
        (anchors.armpit_l + anchors.armpit_r) / 2,
        (anchors.hem_l + anchors.hem_r) / 2,
    ]
    person = [
        p_shoulder_l,
        p_shoulder_r,
        p_armpit_l,
        p_armpit_r,
        p_mid_l,
        p_mid_r,
        p_hem_l,
        p_hem_r,
        (p_armpit_l + p_armpit_r) / 2,
        (p_hem_l + p_hem_r) / 2,
    ]
    torso_region = mask.copy()
    sleeves = []
    for name, sleeve, limb, p_shoulder, p_armpit, hip in (
        ("sleeve_l", anchors.sleeve_l, body.arm_l, p_shoulder_l, p_armpit_l, body.hip_l),
        ("sleeve_r", anchors.sleeve_r, body.arm_r, p_shoulder_r, p_armpit_r, body.hip_r),
    ):
        if sleeve is not None:
            torso_region &= ~sleeve.region
            # Pin the armhole seam straight on the torso's side too: left free, the two splines bow away from
            # each other between shoulder and armpit and open a gap along the seam.
            for t in (1 / 3, 2 / 3):
                garment.append(sleeve.shoulder + (sleeve.armpit - sleeve.shoulder) * t)
                person.append(p_shoulder + (p_armpit - p_shoulder) * t)
            garment_to_person = np.stack([body.across, body.down], axis=1) @ np.stack([g_across, g_down])
            sleeves.append(
                _sleeve_part(
                    name=name,
                    sleeve=sleeve,
                    limb=limb,
                    p_shoulder=p_shoulder,
                    p_armpit=p_armpit,
                    hip=hip,
                    scale=scale,
                    body=body,
                    garment_to_person=garment_to_person,
                )
            )
    torso = Part(
        name="torso",
        garment=np.array(garment),
        person=np.array(person),
        region=_main_piece(torso_region),
        over_arms=False,
        hangs=category == Category.DRESSES,
    )
    return [torso, *sleeves]


def _sleeve_part(
    *,
    name: str,
    sleeve: Sleeve,
    limb: Limb,
    p_shoulder: np.ndarray,
    p_armpit: np.ndarray,
    hip: np.ndarray,
    scale: float,
    body: Body,
    garment_to_person: np.ndarray,
) -> Part:
    """A sleeve swung about the shoulder onto the arm.

    When the arm hangs closer to the body than the flat sleeve, the sleeve turns rigidly about the shoulder
    seam and its root tucks in over the torso (drawn on top); pinning its armpit to the torso's armpit instead
    would twist the sleeve a quarter turn between root and cuff. When the arm is raised further than the flat
    sleeve, the armpit stays pinned so no gap opens under it.
    """
    g_axis = _unit(garment_to_person @ (sleeve.cuff - (sleeve.shoulder + sleeve.armpit) / 2))
    arm = _unit(limb.middle - limb.root)
    turn = float(np.arctan2(g_axis[0] * arm[1] - g_axis[1] * arm[0], float(np.dot(g_axis, arm))))
    towards_body = np.dot(arm, body.down) > np.dot(g_axis, body.down)
    if towards_body:
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        swung = p_shoulder + rotation @ (garment_to_person @ (sleeve.armpit - sleeve.shoulder)) * scale
        # A wide, short sleeve (a boxy tee's) swung rigidly would carry its armpit across the chest and fold the
        # sleeve over the shirt: then it stays pinned to the torso's armpit, like a raised arm's.
        outward = np.sign(float(np.dot(p_shoulder - body.shoulder_mid, body.across)))
        inward = -outward * float(np.dot(swung - p_armpit, body.across)) / body.width
        crossing = inward > 0.3
        if not crossing:
            p_armpit = swung

    def radii(point: np.ndarray, normal: np.ndarray, flat_outer: float, flat_inner: float) -> tuple[float, float]:
        # Where the arm touches the torso the inner side reads long, running on into the body: that is welcome,
        # the sleeve's underside then meets the shirt's side instead of leaving the old garment showing between.
        arm_in, arm_out = body.extents(point, reach=0.22 * body.width, direction=normal, limbs=True)
        floor = 0.11 * body.width * _EASE
        return max(_worn(flat_outer, arm_out), floor), max(_worn(flat_inner, max(arm_in, arm_out)), floor)

    garment, person = _tube(
        outer=(sleeve.shoulder, p_shoulder),
        inner=(sleeve.armpit, p_armpit),
        end_outer=sleeve.cuff_upper,
        end_inner=sleeve.cuff_lower,
        limb=limb,
        scale=scale,
        away_from=hip - limb.root,
        radii=radii,
    )
    for t in (1 / 3, 2 / 3):  # the seam, straight, as on the torso's side
        garment.append(sleeve.shoulder + (sleeve.armpit - sleeve.shoulder) * t)
        person.append(p_shoulder + (p_armpit - p_shoulder) * t)
    return Part(name=name, garment=np.array(garment), person=np.array(person), region=sleeve.region, over_arms=True)


def fit_bottom(*, anchors: BottomAnchors, body: Body, mask: np.ndarray) -> list[Part]:
    """One part for trousers, shorts or a skirt: the waist above the hips, legs along the legs."""
    if not body.hips_visible:
        raise EngineError(
            EngineErrorCode.PERSON_NOT_DETECTED,
            "The person's hips and legs are not visible enough to dress them.",
            retryable=False,
        )
    g_origin, g_across, g_down, g_width = _frame(anchors.waist_l, anchors.waist_r)
    hip_width = float(np.linalg.norm(body.hip_r - body.hip_l))
    waist = body.hip_mid - body.down * _WAIST_ABOVE_HIPS * body.torso
    trunk_l, trunk_r = body.extents(waist, reach=1.1 * hip_width)
    half_l = float(np.clip(trunk_l, 0.6 * hip_width, 1.05 * hip_width)) * _EASE
    half_r = float(np.clip(trunk_r, 0.6 * hip_width, 1.05 * hip_width)) * _EASE
    # The flat waist is half the waist's circumference; seen from the front the waist shows less of it.
    scale = (half_l + half_r) / (g_width * _FLAT_TO_WORN)
    p_waist_l, p_waist_r = waist - body.across * half_l, waist + body.across * half_r
    p_centre = (p_waist_l + p_waist_r) / 2
    garment = [anchors.waist_l, anchors.waist_r, g_origin]
    person = [p_waist_l, p_waist_r, p_centre]
    if anchors.crotch is not None and anchors.hem_l_inner is not None and anchors.hem_r_inner is not None:
        # The crotch sits a little below the hip joints whatever the cut; the garment's rise only moves it within.
        rise = float(
            np.clip(float(np.dot(anchors.crotch - g_origin, g_down)) * scale, 0.3 * body.torso, 0.5 * body.torso)
        )
        p_crotch = p_centre + body.down * rise
        garment.append(anchors.crotch)
        person.append(p_crotch)

        def radii(point: np.ndarray, normal: np.ndarray, flat_outer: float, flat_inner: float) -> tuple[float, float]:
            # extents() reads against the direction first: that is the inner side of the leg.
            inner, outer = body.extents(point, reach=0.65 * hip_width, direction=normal, limbs=True)
            floor = 0.22 * hip_width
            return max(_worn(flat_outer, outer), floor), max(_worn(flat_inner, inner), floor)

        for leg, g_waist, p_waist, hem_outer, hem_inner, other in (
            (body.leg_l, anchors.waist_l, p_waist_l, anchors.hem_l, anchors.hem_l_inner, body.hip_r),
            (body.leg_r, anchors.waist_r, p_waist_r, anchors.hem_r, anchors.hem_r_inner, body.hip_l),
        ):
            g_points, p_points = _tube(
                outer=(g_waist, p_waist),
                inner=(anchors.crotch, p_crotch),
                end_outer=hem_outer,
                end_inner=hem_inner,
                limb=leg,
                scale=scale,
                away_from=other - leg.root,
                radii=radii,
                overshoot=0.05,
            )
            garment += g_points[2:]
            person += p_points[2:]
    else:
        hem_depth = float(np.dot((anchors.hem_l + anchors.hem_r) / 2 - g_origin, g_down)) * scale
        ankles = float(np.mean([body.depth_of(leg.end) for leg in (body.leg_l, body.leg_r)]))
        start = body.depth_of(p_centre)
        centre = body.axis_point(float(np.clip(start + hem_depth, body.torso * 1.15, max(ankles, body.torso * 1.3))))
        legs_l, legs_r = body.extents(centre, reach=1.2 * hip_width, limbs=True)
        flat_l = float(np.dot(g_origin - anchors.hem_l, g_across)) * scale
        flat_r = float(np.dot(anchors.hem_r - g_origin, g_across)) * scale
        p_hem_l = centre - body.across * max(flat_l * _FLAT_TO_WORN, legs_l * _EASE)
        p_hem_r = centre + body.across * max(flat_r * _FLAT_TO_WORN, legs_r * _EASE)
        garment += [anchors.hem_l, anchors.hem_r, (anchors.hem_l + anchors.hem_r) / 2]
        person += [p_hem_l, p_hem_r, (p_hem_l + p_hem_r) / 2]
    return [
        Part(
            name="legs",
            garment=np.array(garment),
            person=np.array(person),
            region=mask.copy(),
            over_arms=False,
            hangs=anchors.crotch is None,
        )
    ]
