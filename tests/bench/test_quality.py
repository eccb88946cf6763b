"""The quality bench's measures on constructed results over the synthetic mannequin, whose geometry is exact.

Each test paints a known change on the mannequin photo and checks the number the bench gives it, including what
must stay zero. JPEG noise handling is tested separately (jpeg_quality=None elsewhere: exact pixels)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from bench._quality_measures import THRESHOLDS, changed_mask, flags, garment_pixels, jpeg_roundtrip, measure
from bench._quality_person import PersonAnalysis, body_regions, skin_mask, to_lab
from bench._quality_report import _caption, paired_ssim
from bench.quality import ROOT, garment_categories, main, spread
from vision.synthetic import Mannequin, synthetic_mannequin, synthetic_tshirt

RED = (200, 40, 50)


@pytest.fixture(scope="module")
def mannequin() -> Mannequin:
    return synthetic_mannequin()


@pytest.fixture(scope="module")
def analysis(mannequin: Mannequin) -> PersonAnalysis:
    ys, xs = np.nonzero(mannequin.face)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    silhouette = mannequin.mask > 0
    lab = to_lab(mannequin.image)
    return PersonAnalysis(
        silhouette=silhouette,
        face=mannequin.face,
        face_box=box,
        face_source="test",
        keypoints=mannequin.keypoints,
        skin=skin_mask(lab=lab, face_box=box, silhouette=silhouette),
        lab=lab,
    )


@pytest.fixture(scope="module")
def red_product() -> np.ndarray:
    garment = synthetic_tshirt(colour=RED)
    return to_lab(garment.image)[garment_pixels(product=garment.image)]


def run(mannequin, analysis, product_lab, result, category="tops"):
    values, masks = measure(
        person=mannequin.image,
        result=result,
        analysis=analysis,
        category=category,
        product_lab=product_lab,
        jpeg_quality=None,
    )
    return values, masks


def torso_painted(mannequin: Mannequin, colour=RED) -> np.ndarray:
    result = mannequin.image.copy()
    result[mannequin.regions["torso"]] = colour
    return result


def test_unchanged_result_covers_nothing_and_leaves_all_the_old_garment(mannequin, analysis, red_product):
    values, masks = run(mannequin, analysis, red_product, mannequin.image.copy())

    assert not masks.changed.any()
    assert values["changed"] == 0.0
    assert values["spill"] == 0.0
    assert values["face"] == 0.0
    assert values["fragments"] == 0
    assert values["holes"] == 0.0
    assert values["coverage"] == 0.0
    assert values["residue"] == 1.0
    assert values["fidelity_de"] is None and values["fidelity_hist"] is None
    assert flags(values) == ["coverage", "residue"]


def test_a_clean_replacement_of_the_top_flags_nothing(mannequin, analysis, red_product):
    values, _ = run(mannequin, analysis, red_product, torso_painted(mannequin))

    assert values["spill"] == 0.0
    assert values["face"] == 0.0
    assert values["fragments"] == 0
    assert values["holes"] == 0.0
    assert values["coverage"] == 1.0
    assert values["residue"] == 0.0
    assert values["fidelity_de"] < 2.0
    assert values["fidelity_hist"] < 0.2
    assert flags(values) == []


def test_paint_on_the_background_is_spill(mannequin, analysis, red_product):
    result = torso_painted(mannequin)
    result[600:700, 20:120] = RED  # background, far from the figure

    values, masks = run(mannequin, analysis, red_product, result)

    # The light blur before differencing widens a change by one pixel on each side.
    assert 100 * 100 <= masks.spill.sum() <= 102 * 102
    assert not masks.spill[:599].any() and not masks.spill[:, 121:].any()
    assert values["spill"] == round(float(masks.spill.sum() / masks.changed.sum()), 4)
    assert values["spill"] > 0.1
    assert values["fragments"] == 1  # the patch is a second piece
    assert "spill" in flags(values)
    assert values["face"] == 0.0


def test_a_change_in_the_face_is_counted(mannequin, analysis, red_product):
    result = torso_painted(mannequin)
    result[100:120, 370:400] = (10, 10, 10)
    face_area = int(mannequin.face.sum())

    values, _ = run(mannequin, analysis, red_product, result)

    assert round(20 * 30 / face_area, 4) <= values["face"] <= round(22 * 32 / face_area, 4)
    assert "face" in flags(values)


def test_an_unchanged_hole_inside_a_changed_ring_is_counted(mannequin, analysis, red_product):
    result = torso_painted(mannequin)
    hole = np.zeros(mannequin.mask.shape, np.uint8)
    cv2.circle(hole, (384, 380), 25, 1, -1)
    hole = hole > 0
    result[hole] = mannequin.image[hole]

    values, masks = run(mannequin, analysis, red_product, result)

    # The 5 px closing of the changed region trims the hole's rim by up to 2 px; the disc itself is counted.
    assert hole.sum() * 0.8 < masks.holes.sum() <= hole.sum()
    assert not (masks.holes & ~hole).any()
    assert values["holes"] > THRESHOLDS["holes"][1]
    assert values["fragments"] == 0
    assert "holes" in flags(values)


def test_an_unchanged_forearm_across_the_garment_is_not_a_hole(red_product):
    across = synthetic_mannequin(forearm_across=True)
    ys, xs = np.nonzero(across.face)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    lab = to_lab(across.image)
    silhouette = across.mask > 0
    analysis = PersonAnalysis(
        silhouette=silhouette, face=across.face, face_box=box, face_source="test", keypoints=across.keypoints,
        skin=skin_mask(lab=lab, face_box=box, silhouette=silhouette), lab=lab,
    )  # fmt: skip
    result = across.image.copy()
    result[across.regions["torso"] & ~across.regions["arms"]] = RED

    values, masks = run(across, analysis, red_product, result)

    assert not masks.holes.any()
    assert values["holes"] == 0.0


def test_pieces_beyond_the_first_are_fragments(mannequin, analysis, red_product):
    result = torso_painted(mannequin)
    result[650:690, 300:340] = RED  # on the trousers, away from the top
    result[800:840, 420:460] = RED

    values, _ = run(mannequin, analysis, red_product, result)

    assert values["fragments"] == 2
    assert values["spill"] == 0.0
    assert "fragments" in flags(values)


def test_the_old_garment_left_below_a_short_top_is_residue(mannequin, analysis, red_product):
    result = mannequin.image.copy()
    upper = mannequin.regions["torso"].copy()
    upper[380:] = False
    result[upper] = RED
    old = mannequin.regions["torso"] & ~mannequin.regions["arms"]

    values, masks = run(mannequin, analysis, red_product, result)

    left = old.copy()
    left[:380] = False
    # Less the one-pixel row the blur widens the painted edge by.
    assert left[381:].sum() <= masks.residue.sum() <= left.sum()
    assert not (masks.residue & ~left).any()
    # The bench's old garment is the top's colour within its zone (anti-aliased edges and hands excepted).
    assert values["residue"] == pytest.approx(float(masks.residue.sum() / old.sum()), abs=0.01)
    assert values["coverage"] < THRESHOLDS["coverage"][1]
    assert {"residue", "coverage"} <= set(flags(values))


def test_a_product_of_another_colour_has_poor_fidelity(mannequin, analysis):
    garment = synthetic_tshirt(colour=(30, 160, 60))
    green = to_lab(garment.image)[garment_pixels(product=garment.image)]

    values, _ = run(mannequin, analysis, green, torso_painted(mannequin))

    assert values["fidelity_de"] > THRESHOLDS["fidelity_de"][1]
    assert values["fidelity_hist"] > THRESHOLDS["fidelity_hist"][1]


def test_bottoms_coverage_is_measured_on_the_legs(mannequin, analysis, red_product):
    result = mannequin.image.copy()
    result[mannequin.regions["legs"]] = (40, 60, 150)

    values, masks = run(mannequin, analysis, red_product, result, category="bottoms")

    assert values["coverage"] > 0.99  # the capsule's round end reaches the shoes below the ankle
    assert values["residue"] == 0.0
    assert not (masks.region & mannequin.regions["torso"]).any()


def test_jpeg_noise_of_untouched_pixels_is_not_a_change(mannequin):
    encoded = jpeg_roundtrip(mannequin.image, quality=90)

    assert not changed_mask(person=mannequin.image, result=encoded, jpeg_quality=90).any()
    painted = torso_painted(mannequin)
    changed = changed_mask(person=mannequin.image, result=jpeg_roundtrip(painted, quality=90), jpeg_quality=90)
    torso = mannequin.regions["torso"]
    assert (changed & torso).sum() / torso.sum() > 0.98
    assert not (changed & mannequin.face).any()


def test_body_regions_follow_the_joints(mannequin):
    regions = body_regions(keypoints=mannequin.keypoints, silhouette=mannequin.mask > 0)

    assert not (regions["torso"] & ~mannequin.regions["torso"]).any()
    assert regions["legs"][700, 326] and regions["legs"][900, 446]
    assert not regions["legs"][:533].any()  # from a tenth of the torso below the hip joints
    assert regions["hands"][541, 523] and not regions["hands"][380, 384]
    assert not body_regions(keypoints={}, silhouette=mannequin.mask > 0)["torso"].any()


def test_garment_pixels_of_a_flat_lay(mannequin):
    garment = synthetic_tshirt()
    mask = garment_pixels(product=garment.image)

    assert not (mask & ~garment.mask).any()
    assert mask.sum() / garment.mask.sum() > 0.9


def test_paired_ssim_is_one_on_identical_images_and_drops_on_a_grey_patch(mannequin):
    assert paired_ssim(result=mannequin.image, truth=mannequin.image) == pytest.approx(1.0)
    agnostic = mannequin.image.copy()
    agnostic[mannequin.regions["torso"] | mannequin.regions["arms"]] = 128
    grey = np.full_like(mannequin.image, 128)
    floor = paired_ssim(result=agnostic, truth=mannequin.image)
    assert paired_ssim(result=grey, truth=mannequin.image) < floor < 0.999


def test_readme_categories_and_spread(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "## garment\n- `garment/`: photos.\n  - tops: `a1` `a2`\n    `a3`\n  - bottoms (trousers): `b1`\n"
        "  - dresses: `d1` `d2`\n\n## other\n`x9`\n"
    )
    assert garment_categories(readme) == {
        "a1": "tops", "a2": "tops", "a3": "tops", "b1": "bottoms", "d1": "dresses", "d2": "dresses",
    }  # fmt: skip
    assert spread(list(range(10)), 2) == [2, 7]
    assert spread([1, 2], 5) == [1, 2]


def test_out_inside_the_project_is_refused(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["--dir", str(tmp_path), "--out", str(ROOT / "var" / "quality")])
    assert exc.value.code == 2
    assert not (ROOT / "var" / "quality").exists()


def test_a_run_on_a_photo_folder_writes_its_report_outside_the_project(tmp_path, capsys):
    """End to end through the real engine and MediaPipe, on a person photo the project may use (matplotlib's
    sample) and the synthetic t-shirt; the paired protocol on the same photo with a grey torso as agnostic."""
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        person = Image.open(handle).convert("RGB")
    folder = tmp_path / "eval"
    for sub in ("ootd/person", "ootd/garment", "paired/person", "paired/garment", "paired/agnostic"):
        (folder / sub).mkdir(parents=True)
    person.save(folder / "ootd/person/hopper.jpg")
    person.save(folder / "paired/person/p1.jpg")
    agnostic = np.asarray(person).copy()
    agnostic[int(agnostic.shape[0] * 0.7) :] = 128
    Image.fromarray(agnostic).save(folder / "paired/agnostic/p1.jpg")
    shirt = Image.fromarray(synthetic_tshirt().image)
    shirt.save(folder / "ootd/garment/t1.jpg")
    shirt.save(folder / "paired/garment/p1.jpg")
    (folder / "README.md").write_text("- tops: `t1`\n- bottoms: `t9`\n")
    out = tmp_path / "out"

    assert main(["--dir", str(folder), "--out", str(out)]) == 0

    report = json.loads((out / "report.json").read_text())
    assert [(r["person"], r["garment"], r["category"]) for r in report["results"]] == [("hopper", "t1", "tops")]
    record = report["results"][0]
    assert set(record["measures"]) == {*THRESHOLDS, "changed"} if record["refused"] is None else record["refused"]
    assert report["summary"]["tops"]["n"] == 1
    assert report["paired"]["n"] == 1 and report["paired"]["floor_mean"] < 1.0
    assert report["sheets"] == ["sheet_tops_01.png", "sheet_paired_01.png"]
    assert (out / "sheet_tops_01.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "paired SSIM" in printed and "tops" in printed


def test_a_striped_product_rendered_with_both_colours_in_other_proportions_keeps_its_fidelity(mannequin, analysis):
    garment = synthetic_tshirt(colour=RED, pattern="stripes")
    product = to_lab(garment.image)[garment_pixels(product=garment.image)]
    result = torso_painted(mannequin)
    torso = mannequin.regions["torso"]
    darker = tuple(int(c * 0.55) for c in RED)
    rows = np.zeros_like(torso)
    rows[::3] = True  # one row in three dark instead of one in two: the proportions shift, the colours stay
    result[torso & rows] = darker

    values, _ = run(mannequin, analysis, product, result)
    plain, _ = run(mannequin, analysis, product, torso_painted(mannequin, colour=(30, 160, 60)))

    assert values["fidelity_de"] < 5.0
    assert "fidelity_de" not in flags(values)
    assert plain["fidelity_de"] > THRESHOLDS["fidelity_de"][1]


def test_sheet_captions_show_the_measures_and_mark_those_past_their_threshold():
    record = {"person": "p", "garment": "g", "category": "tops", "refused": None, "flags": ["spill"],
              "measures": {"spill": 0.05, "face": 0.0, "coverage": None}}  # fmt: skip
    title, figures = _caption(record)
    assert title == "p x g (tops)"
    assert figures.startswith("spill=0.05!  face=0  fragments=-  coverage=-")
    paired = {"person": "00001_00", "garment": "its garment", "category": "paired", "refused": None, "flags": [],
              "measures": {"ssim": 0.71, "floor": 0.72}}  # fmt: skip
    assert _caption(paired)[1] == "ssim=0.71  floor=0.72"
