"""The offline try-on engine: pose, garment cut-out, thin-plate-spline fit, layered blend. CPU only."""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import cv2
import numpy as np
from PIL import Image

from engines.base import (
    Category,
    EngineError,
    EngineErrorCode,
    EngineOptions,
    GarmentPhotoType,
    TryOnRequest,
    TryOnResult,
)
from engines.local.agnostic import agnostic_body, repaint
from engines.local.anchors import BottomAnchors, TopAnchors, bottom_anchors, category_from_shape
from engines.local.body import Body, body_from_pose, hang_zone
from engines.local.category import category_from_text
from engines.local.compose import Box, Layer, composite, forearm_mask, warp_part
from engines.local.conform import conform
from engines.local.cutout import WORK_LONG_SIDE, Cutout, garment_cutout
from engines.local.fitting import Part, fit_bottom, fit_top
from engines.local.gate import (
    check_cutout,
    check_invented_skin,
    check_own_skirt_below,
    check_person,
    check_product_photo,
    check_result,
    check_sleeves_apart,
)
from engines.local.profile import garment_top_anchors
from engines.local.restore import face_mask, restore_arms, shopper_skin_model
from vision.masked import agnostic_mask, pose_input
from vision.pose import PersonPose, PoseEstimator, shared_pose_estimator

JPEG_QUALITY = 90
_MAX_PRODUCT_IMAGES = 3  # tried in order until one cuts out
_MODEL_CHECK_LONG_SIDE = 320
# Pillow's decoder errors for hostile or truncated bytes (see tryon_project/images.py for the full story).
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)
T = TypeVar("T")


@dataclass(frozen=True)
class Rendering:
    image: np.ndarray  # H x W x 3 RGB uint8, the person's size
    category: Category
    changed_box: tuple[int, int, int, int]  # nothing outside it differs from the person image
    timings_ms: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, object] = field(default_factory=dict)


def decode_rgb(
    *, data: bytes, code: EngineErrorCode, what: str, keep_alpha: bool = False, min_side: int | None = None
) -> np.ndarray:
    """Decode image bytes to RGB (or RGBA when asked and present); bad bytes raise `code`."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if min_side is not None and im.format == "JPEG":
                # JPEG decodes at 1/2, 1/4 or 1/8 scale almost for free; the garment is only needed this large.
                im.draft("RGB", (min_side, min_side))
            has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
            return np.asarray(im.convert("RGBA" if keep_alpha and has_alpha else "RGB"))
    except _DECODE_ERRORS as exc:
        raise EngineError(code, f"The {what} image could not be decoded.", retryable=False) from exc


def encode_jpeg(*, image: np.ndarray, output_size: tuple[int, int] | None) -> bytes:
    """JPEG bytes; with an output size, scaled to cover it and centre-cropped (never stretched)."""
    im = Image.fromarray(image)
    if output_size is not None and output_size != im.size:
        width, height = output_size
        scale = max(width / im.width, height / im.height)
        scaled = im.resize(
            (max(width, round(im.width * scale)), max(height, round(im.height * scale))), Image.Resampling.LANCZOS
        )
        left, top = (scaled.width - width) // 2, (scaled.height - height) // 2
        im = scaled.crop((left, top, left + width, top + height))
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def run(self, stage: str, step: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            return step()
        finally:
            self.timings[stage] = round(self.timings.get(stage, 0.0) + (time.perf_counter() - start) * 1000, 2)


def _anchors(*, cutout: Cutout, category: Category) -> TopAnchors | BottomAnchors:
    """The garment's landmarks, read before the person is looked at; a top whose sleeves cannot be told from its
    body is refused here."""
    if category == Category.BOTTOMS:
        return bottom_anchors(mask=cutout.mask)
    anchors = garment_top_anchors(mask=cutout.mask)
    if category in (Category.TOPS, Category.OUTERWEAR):
        check_sleeves_apart(rgb=cutout.rgb, mask=cutout.mask, anchors=anchors)
    return anchors


def _parts(*, cutout: Cutout, anchors: TopAnchors | BottomAnchors, category: Category, body: Body) -> list[Part]:
    if isinstance(anchors, BottomAnchors):
        return fit_bottom(anchors=anchors, body=body, mask=cutout.mask)
    return fit_top(anchors=anchors, body=body, category=category, mask=cutout.mask)


def _warp(*, parts: list[Part], cutout: Cutout, size: tuple[int, int]) -> list[Layer]:
    return [
        layer
        for part in parts
        if (layer := warp_part(part=part, rgb=cutout.rgb, alpha=cutout.alpha, size=size)) is not None
    ]


def _diagnostics(
    *, category: Category, source: str, cutout: Cutout, parts: list[Part], body: Body, **extra: object
) -> dict[str, object]:
    return {
        "category": str(category),
        "category_source": source,
        "cutout": cutout.method,
        "parts": [part.name for part in parts],
        "shoulder_width_px": round(body.width, 1),
        **extra,
    }


def _grow(box: Box, changed: np.ndarray) -> Box:
    if not changed.any():
        return box
    ys, xs = np.nonzero(changed)
    if box[2] <= box[0]:
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    return (
        min(box[0], int(xs.min())),
        min(box[1], int(ys.min())),
        max(box[2], int(xs.max()) + 1),
        max(box[3], int(ys.max()) + 1),
    )


def _replace_old(
    *,
    image: np.ndarray,
    person: np.ndarray,
    alpha: np.ndarray,
    box: Box,
    body: Body,
    pose: PersonPose,
    category: Category,
) -> tuple[np.ndarray, Box, dict[str, int]]:
    """What the new garment leaves of the old one is replaced (conform.py), and old sleeves beyond new ones become
    bare arms; the changed box grows to include both."""
    height, width = person.shape[:2]
    covered = np.zeros((height, width), bool)
    covered[box[1] : box[3], box[0] : box[2]] = alpha >= 0.5
    # Only the face is off limits here: the hands are skin, which the skin model leaves alone anyway, while an
    # old cuff over the wrist lies inside the hands' protected disc and must go too.
    protected = face_mask(pose=pose, size=(width, height))
    model = shopper_skin_model(person=person, pose=pose, body=body)
    conformed = conform(
        image=image, person=person, covered=covered, body=body, category=category, skin=model, protected=protected
    )
    image, box = conformed.image, _grow(box, conformed.changed)
    arms = forearms = 0
    if category != Category.BOTTOMS:
        image, changed = restore_arms(
            image=image, person=person, covered=covered, body=body, model=model, protected=protected
        )
        box, arms = _grow(box, changed), int(changed.sum())
        forearms = int((changed & forearm_mask(pose=pose, body=body, box=(0, 0, width, height))).sum())
    return (
        image,
        box,
        {
            "extended_px": conformed.garment_px,
            "skin_px": conformed.skin_px,
            "background_px": conformed.background_px,
            "restored_arms_px": arms,
            "restored_forearms_px": forearms,
        },
    )


class LocalEngine:
    name = "local"
    version = "2.1.0"

    def __init__(
        self, *, pose_estimator: PoseEstimator | None = None, product_pose_estimator: PoseEstimator | None = None
    ) -> None:
        # None means the process-wide MediaPipe model, loaded on first use. The product photo has its own seam:
        # tests inject the person's exact pose, but whether a product photo shows a model is always looked for.
        self._pose_estimator = pose_estimator
        self._product_pose_estimator = product_pose_estimator

    @property
    def pose_estimator(self) -> PoseEstimator:
        return self._pose_estimator or shared_pose_estimator()

    def check_product_photo(self, garment: np.ndarray) -> None:
        """Refuse an on-model product photo (PRODUCT_PHOTO_UNSUPPORTED): its model's face and arms would be pasted
        onto the shopper, and separating the garment from the model is beyond this engine."""
        rgb = garment[..., :3]
        if garment.shape[2] == 4:
            rgb = np.where(garment[..., 3:] >= 128, rgb, np.uint8(255)).astype(np.uint8)
        # A head and shoulders read at the pose network's own input size (256 px): a larger copy only costs time.
        scale = min(1.0, _MODEL_CHECK_LONG_SIDE / max(rgb.shape[:2]))
        if scale < 1.0:
            size = (max(8, round(rgb.shape[1] * scale)), max(8, round(rgb.shape[0] * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        estimator = self._product_pose_estimator or shared_pose_estimator()
        check_product_photo(pose=estimator.estimate(image=np.ascontiguousarray(rgb)), size=(rgb.shape[1], rgb.shape[0]))

    def render(
        self,
        *,
        person: np.ndarray,
        garment: np.ndarray | Cutout,
        category: Category = Category.AUTO,
        title: str = "",
        description: str = "",
    ) -> Rendering:
        """Dress the person (RGB uint8) in the garment (an RGB or RGBA uint8 product photo, or its cut-out)."""
        clock = _Clock()
        source = "request"
        if category == Category.AUTO:
            named = category_from_text(title=title, description=description)
            category, source = (named, "text") if named is not None else (Category.AUTO, "shape")
        if not isinstance(garment, Cutout):
            clock.run("model-check", lambda: self.check_product_photo(garment))
        cutout = garment if isinstance(garment, Cutout) else clock.run("cutout", lambda: garment_cutout(image=garment))
        check_cutout(mask=cutout.mask)
        if category == Category.AUTO:
            category = category_from_shape(mask=cutout.mask)
        masked = clock.run("agnostic", lambda: agnostic_mask(person=person))
        if masked is not None:
            return self._render_agnostic(
                person=person, mask=masked, cutout=cutout, category=category, source=source, clock=clock
            )
        pose = clock.run("pose", lambda: self.pose_estimator.estimate(image=person))
        if pose is None:
            raise EngineError(EngineErrorCode.PERSON_NOT_DETECTED, "No person was found in the photo.", retryable=False)
        body = body_from_pose(pose=pose)
        check_person(pose=pose, body=body, category=category)
        # After the person: a photo that cannot be dressed is what to fix first, whatever the garment.
        anchors = clock.run("anchors", lambda: _anchors(cutout=cutout, category=category))
        parts = clock.run("fit", lambda: _parts(cutout=cutout, anchors=anchors, category=category, body=body))
        size = (person.shape[1], person.shape[0])
        layers = clock.run("warp", lambda: _warp(parts=parts, cutout=cutout, size=size))
        hang = None
        hanging = [part for part in parts if part.hangs]
        if hanging:
            hem = max(body.depth_of(point) for part in hanging for point in part.person)
            if category == Category.DRESSES:
                check_own_skirt_below(body=body, hem=hem)
            hang = hang_zone(body=body, start=body.torso, end=hem)
        image, box, alpha = clock.run(
            "compose", lambda: composite(person=person, layers=layers, pose=pose, body=body, hang=hang)
        )
        clock.run("gate", lambda: check_result(alpha=alpha, box=box, body=body, category=category))
        replaced: dict[str, int] = {}
        if box[2] > box[0]:
            image, box, replaced = clock.run(
                "replace",
                lambda: _replace_old(
                    image=image, person=person, alpha=alpha, box=box, body=body, pose=pose, category=category
                ),
            )
        check_invented_skin(
            chest=int(replaced.get("skin_px", 0)),
            arms=int(replaced.get("restored_arms_px", 0)),
            forearms=int(replaced.get("restored_forearms_px", 0)),
            body=body,
            category=category,
        )
        diagnostics = _diagnostics(category=category, source=source, cutout=cutout, parts=parts, body=body, **replaced)
        return Rendering(
            image=image, category=category, changed_box=box, timings_ms=clock.timings, diagnostics=diagnostics
        )

    def _render_agnostic(
        self, *, person: np.ndarray, mask: np.ndarray, cutout: Cutout, category: Category, source: str, clock: _Clock
    ) -> Rendering:
        """A person photo whose top and arms are masked out flat grey (engines/local/agnostic.py): the grey area
        is dressed, and nothing else changes."""
        if category not in (Category.TOPS, Category.OUTERWEAR):
            raise EngineError(
                EngineErrorCode.PERSON_POSE_UNSUPPORTED,
                "The photo's top and arms are masked out, so only a top can be tried on it: send the unmasked photo "
                "for trousers, skirts and dresses.",
                retryable=False,
            )
        pose = clock.run("pose", lambda: self.pose_estimator.estimate(image=pose_input(person=person, mask=mask)))
        if pose is None:
            raise EngineError(EngineErrorCode.PERSON_NOT_DETECTED, "No person was found in the photo.", retryable=False)
        body = agnostic_body(pose=pose, mask=mask)
        anchors = clock.run("anchors", lambda: _anchors(cutout=cutout, category=category))
        parts = clock.run("fit", lambda: _parts(cutout=cutout, anchors=anchors, category=category, body=body))
        size = (person.shape[1], person.shape[0])
        layers = clock.run("warp", lambda: _warp(parts=parts, cutout=cutout, size=size))
        painted = clock.run("compose", lambda: repaint(person=person, mask=mask, pose=pose, body=body, layers=layers))
        full = (0, 0, size[0], size[1])
        clock.run("gate", lambda: check_result(alpha=painted.garment_alpha, box=full, body=body, category=category))
        diagnostics = _diagnostics(
            category=category,
            source=source,
            cutout=cutout,
            parts=parts,
            body=body,
            person_photo="agnostic",
            skin_px=painted.skin_px,
        )
        return Rendering(
            image=painted.image,
            category=category,
            changed_box=_grow((0, 0, 0, 0), painted.changed),
            timings_ms=clock.timings,
            diagnostics=diagnostics,
        )

    def _first_usable_garment(self, images: tuple[bytes, ...], clock: _Clock) -> Cutout:
        """The cut-out of the first product image that yields one: a product's first photo may be a detail shot
        or a back view on a busy background, while a later one is the packshot."""
        failures: list[EngineError] = []
        for data in images[:_MAX_PRODUCT_IMAGES]:
            try:
                garment = clock.run(
                    "decode",
                    functools.partial(
                        decode_rgb,
                        data=data,
                        code=EngineErrorCode.PRODUCT_IMAGE_INVALID,
                        what="product",
                        keep_alpha=True,
                        min_side=WORK_LONG_SIDE,
                    ),
                )
                clock.run("model-check", functools.partial(self.check_product_photo, garment))
                cutout = clock.run("cutout", functools.partial(garment_cutout, image=garment))
                check_cutout(mask=cutout.mask)
                return cutout
            except EngineError as exc:
                # An on-model or ragged first photo is common, with the packshot further down the gallery.
                if exc.code not in (EngineErrorCode.PRODUCT_IMAGE_INVALID, EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED):
                    raise
                failures.append(exc)
        if not failures:
            raise EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, "No product image was given.", retryable=False)
        raise failures[0]

    def run(self, request: TryOnRequest) -> TryOnResult:
        started = time.perf_counter()
        clock = _Clock()
        if request.category == Category.AUTO:
            # Refuse accessories before any image work.
            category_from_text(title=request.title, description=request.description)
        person = clock.run(
            "decode",
            lambda: decode_rgb(
                data=request.person_image,
                code=EngineErrorCode.CUSTOMER_IMAGE_INVALID,
                what="customer",
            ),
        )
        if request.options.garment_photo_type == GarmentPhotoType.MODEL:
            raise EngineError(
                EngineErrorCode.PRODUCT_PHOTO_UNSUPPORTED,
                "The local engine cannot separate a garment from the model wearing it: send a packshot or flat-lay "
                "of the garment alone.",
                retryable=False,
            )
        try:
            garment = self._first_usable_garment(request.garment_images, clock)
            rendering = self.render(
                person=person,
                garment=garment,
                category=request.category,
                title=request.title,
                description=request.description,
            )
        except (cv2.error, np.linalg.LinAlgError) as exc:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"The local engine failed: {exc}", retryable=False) from exc
        options: EngineOptions = request.options
        data = clock.run("encode", lambda: encode_jpeg(image=rendering.image, output_size=options.output_size))
        timings = {**clock.timings, **rendering.timings_ms}
        timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        diagnostics = dict(rendering.diagnostics)
        # Always deterministic, one speed: a seed or a quality changes nothing. The photo type is honoured ("model"
        # is refused above).
        ignored = sorted(options.requested & {"seed", "quality"})
        if ignored:
            diagnostics["ignored_options"] = ignored
        return TryOnResult(
            image=data,
            content_type="image/jpeg",
            engine=self.name,
            engine_version=self.version,
            timings_ms=timings,
            diagnostics=diagnostics,
        )
