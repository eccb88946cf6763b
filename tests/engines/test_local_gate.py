"""The local engine's quality gate: each refusal produced by an input made for it, and the fitting guarantees
that keep a rendered result showable (sleeves along the arms, no hole between trouser legs)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from engines.base import Category, EngineError, EngineErrorCode, EngineOptions, GarmentPhotoType, TryOnRequest
from engines.local import LocalEngine
from engines.local.body import Body, body_from_pose
from engines.local.compose import face_ellipse
from engines.local.cutout import garment_cutout
from engines.local.gate import check_result, check_sleeves_apart, side_seam_share
from engines.local.profile import garment_top_anchors
from engines.local.restore import shopper_skin_model, skin_model, skin_model_from_hands
from tests.engines.conftest import encode, mannequin_engine
from tests.engines.test_local_engine import SHOULDER_WIDTH
from vision.pose import FACE_LANDMARKS, Keypoint, PersonPose
from vision.synthetic import (
    Mannequin,
    synthetic_dress,
    synthetic_long_sleeve,
    synthetic_trousers,
    synthetic_tshirt,
)

GARMENT_SLEEVELESS = synthetic_dress().image  # worn as a top: a sleeveless bodice cut at the hips


class _Counting:
    """A pose estimator that records each call and finds nobody: proves an early refusal looked at nothing."""

    def __init__(self) -> None:
        self.calls = 0

    def estimate(self, *, image: np.ndarray) -> PersonPose | None:
        self.calls += 1
        return None


def posed(mannequin: Mannequin, **moves: tuple[float, float]) -> LocalEngine:
    """The mannequin's engine with some keypoints moved (fully visible)."""
    keypoints = dict(mannequin.keypoints)
    keypoints.update({name: (x, y, 1.0) for name, (x, y) in moves.items()})
    return mannequin_engine(replace(mannequin, keypoints=keypoints))


def refusal(engine: LocalEngine, mannequin: Mannequin, garment: np.ndarray, category: Category) -> EngineError:
    with pytest.raises(EngineError) as caught:
        engine.render(person=mannequin.image, garment=garment, category=category)
    assert caught.value.retryable is False
    return caught.value


def test_a_side_view_is_refused(mannequin: Mannequin) -> None:
    # Seen side-on, the shoulders overlap: 60 px apart over a 270 px torso.
    engine = posed(mannequin, left_shoulder=(414.0, 236.0), right_shoulder=(354.0, 236.0))
    error = refusal(engine, mannequin, synthetic_tshirt().image, Category.TOPS)
    assert error.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "from the front" in error.message


def test_a_head_turned_away_is_refused(mannequin: Mannequin) -> None:
    engine = posed(mannequin, nose=(520.0, 122.0))
    error = refusal(engine, mannequin, synthetic_tshirt().image, Category.TOPS)
    assert error.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED


def test_a_seated_person_cannot_try_on_trousers_or_a_dress(mannequin: Mannequin) -> None:
    # Seated facing the camera, the knees are barely below the hips.
    engine = posed(
        mannequin,
        left_knee=(450.0, 560.0),
        right_knee=(318.0, 560.0),
        left_ankle=(452.0, 800.0),
        right_ankle=(316.0, 800.0),
    )
    for garment in (synthetic_trousers(),):
        error = refusal(engine, mannequin, garment.image, Category.BOTTOMS)
        assert error.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
        assert "standing" in error.message
    assert refusal(engine, mannequin, synthetic_trousers().image, Category.DRESSES).code == (
        EngineErrorCode.PERSON_POSE_UNSUPPORTED
    )
    # A top only needs the upper body: the same photo is dressed.
    engine.render(person=mannequin.image, garment=synthetic_tshirt().image, category=Category.TOPS)


def test_arms_folded_across_the_chest_are_refused_for_a_top(mannequin: Mannequin) -> None:
    # Each wrist on the other side of the body's centre line, in front of the chest.
    engine = posed(
        mannequin,
        right_elbow=(300.0, 400.0),
        left_elbow=(468.0, 400.0),
        right_wrist=(430.0, 380.0),
        left_wrist=(338.0, 385.0),
    )
    error = refusal(engine, mannequin, synthetic_tshirt().image, Category.TOPS)
    assert error.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "folded" in error.message
    # Trousers do not need the chest.
    engine.render(person=mannequin.image, garment=synthetic_trousers().image, category=Category.BOTTOMS)


def test_a_model_photo_option_is_refused_before_any_image_work(mannequin: Mannequin) -> None:
    person, product = _Counting(), _Counting()
    engine = LocalEngine(pose_estimator=person, product_pose_estimator=product)
    request = TryOnRequest(
        person_image=encode(mannequin.image),
        garment_images=(encode(synthetic_tshirt().image),),
        category=Category.TOPS,
        options=EngineOptions(garment_photo_type=GarmentPhotoType.MODEL),
    )
    with pytest.raises(EngineError) as caught:
        engine.run(request)
    assert caught.value.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED
    assert "packshot or flat-lay" in caught.value.message
    assert (person.calls, product.calls) == (0, 0)


def test_a_garment_whose_shape_cannot_be_read_is_refused() -> None:
    # A t-shirt lying on its side: no shoulders above armpits above a hem.
    sideways = np.ascontiguousarray(np.rot90(synthetic_tshirt().mask))
    with pytest.raises(EngineError) as caught:
        garment_top_anchors(mask=sideways)
    assert caught.value.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED
    # Upright, the same garment reads.
    anchors = garment_top_anchors(mask=synthetic_tshirt().mask)
    assert anchors.sleeve_l is not None and anchors.sleeve_r is not None


def _body(mannequin: Mannequin) -> Body:
    pose = PersonPose(keypoints={k: Keypoint(*v) for k, v in mannequin.keypoints.items()}, mask=mannequin.mask)
    return body_from_pose(pose=pose)


def test_a_result_in_pieces_or_not_covering_the_torso_is_refused(mannequin: Mannequin) -> None:
    body = _body(mannequin)
    height, width = mannequin.mask.shape
    whole = mannequin.torso.astype(np.float32)
    check_result(alpha=whole, box=(0, 0, width, height), body=body, category=Category.TOPS)  # passes
    pieces = whole.copy()
    pieces[:, 370:400] = 0.0  # the garment split down the middle into two halves
    with pytest.raises(EngineError) as caught:
        check_result(alpha=pieces, box=(0, 0, width, height), body=body, category=Category.TOPS)
    assert caught.value.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED
    collar = np.zeros_like(whole)
    collar[226:300] = whole[226:300]  # only a yoke over the shoulders: the chest and belly left uncovered
    with pytest.raises(EngineError) as caught:
        check_result(alpha=collar, box=(0, 0, width, height), body=body, category=Category.TOPS)
    assert caught.value.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED
    with pytest.raises(EngineError):
        check_result(alpha=whole, box=(0, 0, width, height), body=body, category=Category.BOTTOMS)


def _changed(mannequin: Mannequin, image: np.ndarray) -> np.ndarray:
    return np.abs(image.astype(int) - mannequin.image.astype(int)).sum(axis=2) > 0


@pytest.mark.parametrize("side", ["left", "right"])
def test_long_sleeves_end_at_the_wrists_and_short_ones_above_the_elbows(
    mannequin: Mannequin, mannequin_local: LocalEngine, side: str
) -> None:
    shoulder, elbow, wrist = (np.array(mannequin.keypoints[f"{side}_{n}"][:2]) for n in ("shoulder", "elbow", "wrist"))
    axis = (wrist - shoulder) / np.linalg.norm(wrist - shoulder)
    arm = mannequin.regions["arms"] & ~mannequin.torso
    # Only this arm: the half of the image on its side.
    columns = np.arange(arm.shape[1])[None, :]
    arm &= (columns > 384) if shoulder[0] > 384 else (columns < 384)
    # The hand is protected from the wrist joint on (a disc of 0.15 shoulder widths), so a long cuff stops there.
    tolerance = 0.16 * 180
    for garment, end in ((synthetic_long_sleeve(), wrist), (synthetic_tshirt(), None)):
        image = mannequin_local.render(person=mannequin.image, garment=garment.image, category=Category.TOPS).image
        covered = arm & _changed(mannequin, image)
        ys, xs = np.nonzero(covered)
        reach = ((np.stack([xs, ys], axis=1) - shoulder) @ axis).max()
        if end is not None:
            assert abs(reach - float((end - shoulder) @ axis)) <= tolerance, reach
        else:
            assert 0.5 * float((elbow - shoulder) @ axis) < reach < float((elbow - shoulder) @ axis), reach


def test_no_unchanged_pixel_is_enclosed_by_the_trousers(mannequin: Mannequin, mannequin_local: LocalEngine) -> None:
    image = mannequin_local.render(
        person=mannequin.image, garment=synthetic_trousers().image, category=Category.BOTTOMS
    ).image
    painted = _changed(mannequin, image).astype(np.uint8)
    # What the painted garment encloses: flood the unpainted area from the image border; the rest is enclosed.
    flood = (1 - painted).copy()
    cv2.floodFill(flood, None, (0, 0), 2)
    enclosed = flood == 1
    legs = np.zeros_like(enclosed)
    legs[506:930] = True
    assert int((enclosed & legs).sum()) == 0
    # The trousers do reach down the legs, both of them.
    assert painted[800, 326] and painted[800, 442]


def _wearing(mannequin: Mannequin, *, region: np.ndarray, colour: tuple[int, int, int]) -> Mannequin:
    image = mannequin.image.copy()
    image[region] = colour
    return replace(mannequin, image=image)


def test_old_elbow_sleeves_left_uncovered_become_bare_arms(mannequin: Mannequin) -> None:
    """The mannequin in a top with elbow-length sleeves (its arms painted the top's colour down to the elbows)
    tries on a t-shirt: below the new short sleeves the upper arms turn to skin, the face's colour; forearms, hands
    and face stay exact."""
    top_colour, skin = (92, 112, 160), np.array((222, 178, 146), np.float32)
    sleeves = mannequin.regions["arms"].copy()
    sleeves[380:] = False  # down to the elbows
    dressed = _wearing(mannequin, region=sleeves, colour=top_colour)
    image = dressed.image
    result = mannequin_engine(dressed).render(person=image, garment=synthetic_tshirt().image, category=Category.TOPS)
    uncovered = sleeves & ~mannequin.torso & ~_changed_to(result.image, image, top_colour)
    uncovered[:330] = False  # below the new short sleeves' hems
    distance = np.linalg.norm(result.image[uncovered].astype(np.float32) - skin, axis=1)
    assert uncovered.sum() > 300
    assert float((distance < 30).mean()) > 0.9
    assert result.diagnostics["restored_arms_px"] > 0
    assert result.diagnostics["restored_forearms_px"] < 0.1 * SHOULDER_WIDTH**2
    below = mannequin.regions["arms"].copy()
    below[:400] = False  # forearms and hands: bare skin, untouched
    assert np.array_equal(result.image[below], image[below])
    assert np.array_equal(result.image[mannequin.face], image[mannequin.face])
    # The trousers are not the old top: never turned to skin.
    legs = mannequin.legs
    assert np.array_equal(
        result.image[legs & (np.arange(1024)[:, None] > 560)], image[legs & (np.arange(1024)[:, None] > 560)]
    )


def _changed_to(result: np.ndarray, image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Pixels the result shows in the t-shirt's red: where the new sleeves cover the arm."""
    red = np.array((200, 40, 50), np.float32)
    return np.linalg.norm(result.astype(np.float32) - red, axis=2) < 60


def test_old_long_sleeves_under_a_short_sleeved_top_are_refused(mannequin: Mannequin) -> None:
    """Whole forearms drawn in the outline of old long sleeves read as flat, swollen limbs on real photos: such a
    photo is refused, asking for lighter clothes, and nothing is charged beyond the refunded credit."""
    sleeves = mannequin.regions["arms"].copy()
    sleeves[500:] = False  # down to the wrists; the hands keep their skin
    dressed = _wearing(mannequin, region=sleeves, colour=(92, 112, 160))
    error = refusal(mannequin_engine(dressed), dressed, synthetic_tshirt().image, Category.TOPS)
    assert error.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "short-sleeved or sleeveless top" in error.message


def _bitten(garment_image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The product photo with the garment's lower part cut into a fringe of thin strips: the ragged outline a
    print of pale flowers on a pale background leaves, when the cut-out takes the flowers for background. The
    gaps between the strips are wider than the outline closing bridges (a 30th of the photo's long side), so no
    cut-out method can take the fringe for whole cloth."""
    image = garment_image.copy()
    background = image[2, 2].copy()
    rows = np.flatnonzero(mask.any(axis=1))
    fringe = np.zeros_like(mask)
    fringe[rows.max() - 160 : rows.max() + 1, (np.arange(mask.shape[1]) % 40) >= 6] = True
    image[fringe & mask] = background
    return image


def test_a_ragged_cut_out_is_refused_and_a_clean_one_is_not(mannequin: Mannequin, mannequin_local: LocalEngine) -> None:
    shirt = synthetic_tshirt()
    error = refusal(mannequin_local, mannequin, _bitten(shirt.image, shirt.mask), Category.TOPS)
    assert error.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED
    assert "cut out cleanly" in error.message
    mannequin_local.render(person=mannequin.image, garment=shirt.image, category=Category.TOPS)


def test_a_later_packshot_is_used_when_the_first_photo_is_refused(
    mannequin: Mannequin, mannequin_local: LocalEngine
) -> None:
    shirt = synthetic_tshirt()
    request = TryOnRequest(
        person_image=encode(mannequin.image),
        category=Category.TOPS,
        garment_images=(encode(_bitten(shirt.image, shirt.mask)), encode(shirt.image)),
    )
    result = mannequin_local.run(request)
    assert result.diagnostics["parts"] == ["torso", "sleeve_l", "sleeve_r"]


def test_trousers_are_refused_on_a_person_whose_dress_fills_the_gap_between_the_legs(mannequin: Mannequin) -> None:
    image, mask = mannequin.image.copy(), mannequin.mask.copy()
    skirt = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(skirt, np.array([[300, 506], [468, 506], [490, 800], [278, 800]], np.int32), 1)
    image[skirt > 0] = (30, 30, 30)  # a long black dress over the legs
    mask[skirt > 0] = 1.0
    dressed = Mannequin(
        image=image,
        mask=mask,
        keypoints=mannequin.keypoints,
        face=mannequin.face,
        torso=mannequin.torso,
        legs=mannequin.legs,
        regions=mannequin.regions,
    )
    engine = mannequin_engine(dressed)
    with pytest.raises(EngineError) as caught:
        engine.render(person=image, garment=synthetic_trousers().image, category=Category.BOTTOMS)
    assert caught.value.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "legs must be visible apart" in caught.value.message
    # A dress over the dress, or a top, is still dressed; and trousers on the bare-legged mannequin are too.
    engine.render(person=image, garment=synthetic_tshirt().image, category=Category.TOPS)
    mannequin_engine(mannequin).render(
        person=mannequin.image, garment=synthetic_trousers().image, category=Category.BOTTOMS
    )


def test_a_result_with_the_old_garment_showing_through_holes_is_refused(mannequin: Mannequin) -> None:
    body = _body(mannequin)
    height, width = mannequin.mask.shape
    garment = mannequin.torso.astype(np.float32)
    check_result(alpha=garment, box=(0, 0, width, height), body=body, category=Category.TOPS)
    holed = garment.copy()
    holed[440:480, 340:420] = 0.0  # a pale panel read as background: the old top shows through it
    with pytest.raises(EngineError) as caught:
        check_result(alpha=holed, box=(0, 0, width, height), body=body, category=Category.TOPS)
    assert caught.value.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED


def test_a_top_whose_sleeves_cannot_be_told_from_its_body_is_refused() -> None:
    # An inverted trapezoid: twice as wide across the shoulders as at the hem, with no armpit to separate
    # sleeves from body (long sleeves fused with it in the cut-out). Fitted as sleeveless it would stick out.
    mask = np.zeros((500, 500), np.uint8)
    cv2.fillConvexPoly(mask, np.array([[50, 60], [450, 60], [340, 460], [160, 460]], np.int32), 1)
    with pytest.raises(EngineError) as caught:
        garment_top_anchors(mask=mask > 0)
    assert caught.value.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED
    # A tank top as wide at the chest as at the hem still reads.
    tank = np.zeros((500, 500), np.uint8)
    cv2.fillConvexPoly(tank, np.array([[150, 140], [350, 140], [360, 460], [140, 460]], np.int32), 1)
    cv2.rectangle(tank, (160, 40), (190, 140), 1, -1)
    cv2.rectangle(tank, (310, 40), (340, 140), 1, -1)
    anchors = garment_top_anchors(mask=tank > 0)
    assert anchors.sleeve_l is None and anchors.sleeve_r is None


def test_no_old_top_is_left_around_the_new_one(mannequin: Mannequin) -> None:
    """The mannequin's whole torso in an old top of a colour no garment or skin has: after a t-shirt, not one torso
    pixel keeps it (its sides are taken by the new garment, its neckline by skin), and the face is exact."""
    old = (30, 160, 150)
    dressed = _wearing(mannequin, region=mannequin.torso, colour=old)
    result = mannequin_engine(dressed).render(
        person=dressed.image, garment=synthetic_tshirt().image, category=Category.TOPS
    )
    left = np.linalg.norm(result.image.astype(np.float32) - np.array(old, np.float32), axis=2) < 40
    assert int((left & mannequin.torso).sum()) == 0
    assert result.diagnostics["extended_px"] + result.diagnostics["skin_px"] > 0
    assert np.array_equal(result.image[mannequin.face], dressed.image[mannequin.face])
    # Replacing the old top never reaches the trousers below it.
    legs = mannequin.legs & (np.arange(1024)[:, None] > 600)
    assert np.array_equal(result.image[legs], dressed.image[legs])


def test_old_trousers_left_beside_new_ones_are_taken_by_them(mannequin: Mannequin) -> None:
    old = (30, 160, 150)
    dressed = _wearing(mannequin, region=mannequin.legs, colour=old)
    result = mannequin_engine(dressed).render(
        person=dressed.image, garment=synthetic_trousers().image, category=Category.BOTTOMS
    )
    left = np.linalg.norm(result.image.astype(np.float32) - np.array(old, np.float32), axis=2) < 40
    assert int((left & mannequin.legs).sum()) < 0.01 * int(mannequin.legs.sum())
    assert np.array_equal(result.image[mannequin.face], dressed.image[mannequin.face])
    assert np.array_equal(
        result.image[mannequin.torso & (np.arange(1024)[:, None] < 400)],
        dressed.image[mannequin.torso & (np.arange(1024)[:, None] < 400)],
    )


def test_a_strap_top_over_long_sleeves_and_a_high_neck_is_refused(mannequin: Mannequin) -> None:
    """The mannequin covered from the neck to the wrists in an old top: a sleeveless top would need whole arms and
    a chest drawn from nothing, so it is refused with a message asking for lighter clothes."""
    old = (30, 160, 150)
    covered = mannequin.torso | mannequin.regions["arms"]
    covered &= np.arange(1024)[:, None] < 520  # the hands keep their skin
    dressed = _wearing(mannequin, region=covered, colour=old)
    error = refusal(mannequin_engine(dressed), dressed, GARMENT_SLEEVELESS, Category.TOPS)
    assert error.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "short-sleeved or sleeveless" in error.message
    # A long-sleeved top over the same clothes needs no new skin: it is drawn.
    result = mannequin_engine(dressed).render(
        person=dressed.image, garment=synthetic_long_sleeve().image, category=Category.TOPS
    )
    assert result.diagnostics["restored_forearms_px"] < 0.1 * SHOULDER_WIDTH**2


def _hanging_sleeve_top(*, seams: bool) -> np.ndarray:
    """A packshot of a long-sleeved top whose sleeves hang straight down against its body: one outline with no
    armpits. With `seams`, the sleeves' inner edges show as the soft shadow lines a real photo has."""
    image = np.full((600, 500, 3), 255, np.uint8)
    colour = (200, 170, 210)
    body = [(170, 60), (330, 60), (400, 110), (410, 520), (90, 520), (100, 110)]
    cv2.fillPoly(image, [np.array(body, np.int32)], colour)
    cv2.ellipse(image, (250, 60), (40, 18), 0, 0, 180, (255, 255, 255), -1)  # the neckline
    if seams:
        for x in (158, 342):
            cv2.line(image, (x, 150), (x, 500), (150, 120, 160), 3)
    return image


def test_a_top_whose_sleeves_hang_against_its_body_is_refused(mannequin: Mannequin, mannequin_local) -> None:
    error = refusal(mannequin_local, mannequin, _hanging_sleeve_top(seams=True), Category.TOPS)
    assert error.code == EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED
    assert "sleeves laid out away from the body" in error.message


def test_plain_sides_and_real_sleeves_pass_the_sleeve_check() -> None:
    # The same outline with plain sides is a sleeveless top as far as anyone can tell from the photo.
    for image, at_most in (
        (_hanging_sleeve_top(seams=False), 0.05),
        (GARMENT_SLEEVELESS, 0.75),
        (synthetic_tshirt().image, 0.75),
        (synthetic_long_sleeve().image, 0.75),
    ):
        cutout = garment_cutout(image=image)
        anchors = garment_top_anchors(mask=cutout.mask)
        check_sleeves_apart(rgb=cutout.rgb, mask=cutout.mask, anchors=anchors)
        assert side_seam_share(rgb=cutout.rgb, mask=cutout.mask, anchors=anchors) <= at_most
    seamed = garment_cutout(image=_hanging_sleeve_top(seams=True))
    share = side_seam_share(rgb=seamed.rgb, mask=seamed.mask, anchors=garment_top_anchors(mask=seamed.mask))
    assert share > 0.9


def test_a_dress_shorter_than_the_shoppers_own_long_dress_is_refused(mannequin: Mannequin) -> None:
    kp = mannequin.keypoints
    # The shopper in a long dress: the gap between the legs is dress down to the ankles.
    gap = np.array(
        [kp[f"{side}_{joint}"][:2] for side, joint in (("right", "hip"), ("left", "hip"))]
        + [kp[f"{side}_{joint}"][:2] for side, joint in (("left", "ankle"), ("right", "ankle"))],
        np.int32,
    )
    filled = np.zeros(mannequin.mask.shape, np.uint8)
    cv2.fillPoly(filled, [gap], 1)
    image = mannequin.image.copy()
    image[filled > 0] = (58, 58, 70)
    in_dress = replace(mannequin, image=image, mask=np.maximum(mannequin.mask, filled.astype(np.float32)))
    full = synthetic_dress()
    ys = np.nonzero(full.mask)[0]
    dress = full.image.copy()
    dress[int(ys.min() + 0.6 * (ys.max() - ys.min())) :] = 255  # cut to a short dress: it ends about the knees
    error = refusal(mannequin_engine(in_dress), in_dress, dress, Category.DRESSES)
    assert error.code == EngineErrorCode.PERSON_POSE_UNSUPPORTED
    assert "own dress or skirt is longer" in error.message
    # In trousers (the backdrop between the legs), the same dress is dressed.
    mannequin_engine(mannequin).render(person=mannequin.image, garment=dress, category=Category.DRESSES)


def test_a_face_out_of_frame_learns_the_skin_from_the_hands(mannequin: Mannequin) -> None:
    """Shops' own model shots are often cropped above the mouth: the skin model then comes from the hands, and
    matches the face's; hands in the trousers' colour (in the pockets) give none rather than a wrong one."""
    pose = PersonPose(
        keypoints={name: Keypoint(*point) for name, point in mannequin.keypoints.items()}, mask=mannequin.mask
    )
    body = body_from_pose(pose=pose)
    from_face = skin_model(person=mannequin.image, face=face_ellipse(pose=pose))
    from_hands = skin_model_from_hands(person=mannequin.image, pose=pose, body=body)
    assert from_face is not None and from_hands is not None
    # Within a few chroma levels: the face's sample also holds its lips and eyes.
    assert np.linalg.norm(from_hands.chroma_mean - from_face.chroma_mean) < 5.0
    faceless = {
        name: Keypoint(p.x, p.y, 0.0 if name in FACE_LANDMARKS else p.visibility) for name, p in pose.keypoints.items()
    }
    model = shopper_skin_model(person=mannequin.image, pose=replace(pose, keypoints=faceless), body=body)
    assert model is not None and np.array_equal(model.chroma_mean, from_hands.chroma_mean)
    pockets = mannequin.image.copy()
    pockets[mannequin.regions["arms"] & (np.arange(1024)[:, None] > 480)] = (58, 58, 70)
    assert skin_model_from_hands(person=pockets, pose=pose, body=body) is None


def test_old_printed_trousers_leave_no_motif_and_the_shoes_stay(mannequin: Mannequin) -> None:
    """Old wide trousers in a busy print: a main colour with small motifs of a minor one (under the palette's share,
    as dark as the shoes) and of a skin-like pink. After slimmer new trousers neither the main colour nor a motif
    shows beside them, and the shoes are never painted as skin or backdrop."""
    main, motif, pink = (30, 160, 150), (28, 28, 28), (222, 170, 150)
    rows = np.arange(1024)[:, None]
    wide = cv2.dilate(mannequin.legs.astype(np.uint8), np.ones((31, 31), np.uint8)) > 0
    wide &= (rows > 500) & (rows < 925) & ~mannequin.torso & ~mannequin.regions["arms"]
    image = mannequin.image.copy()
    image[wide] = main
    ys, xs = np.nonzero(wide)
    for k, (y, x) in enumerate(zip(ys[::89], xs[::89], strict=True)):
        cv2.circle(image, (int(x), int(y)), 3, motif if k % 2 else pink, -1)
    image[~wide] = mannequin.image[~wide]
    mask = np.maximum(mannequin.mask, wide.astype(np.float32))
    dressed = replace(mannequin, image=image, mask=mask)
    result = mannequin_engine(dressed).render(
        person=dressed.image, garment=synthetic_trousers().image, category=Category.BOTTOMS
    )
    for colour in (main, motif, pink):
        near = np.linalg.norm(result.image.astype(np.float32) - np.array(colour, np.float32), axis=2) < 25
        assert int((near & wide).sum()) < 0.003 * int(wide.sum()), colour
    # The shoes: each pixel as it was or under the new trousers' hem, never skin or backdrop.
    feet = mannequin.regions["feet"]
    changed = feet & np.any(result.image != dressed.image, axis=2)
    trousers = np.array(synthetic_trousers().colour, np.float32)
    distance = np.linalg.norm(result.image[changed].astype(np.float32) - trousers, axis=1)
    assert int((feet & ~changed).sum()) > 500
    assert float((distance < 70).mean()) > 0.95
