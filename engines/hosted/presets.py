"""Model presets for the ``cog`` and ``replicate`` engines: how one open try-on model names its inputs.

A Cog container (and a Replicate model, which is a Cog container hosted by Replicate) takes one JSON object of
inputs whose names are the arguments of the model's ``predict()``. Each preset maps the try-on request onto those
names and records the model's licence, which the operator must respect (several are non-commercial).

``confirmed`` says whether the input names were checked against the model's published Cog/Replicate interface;
an unconfirmed preset follows the model's own demo code and may need a custom preset (``TRYON_COG_PRESET_JSON``)
if the operator's container names its inputs differently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from engines.base import Category, EngineError, EngineErrorCode, Quality, TryOnRequest
from engines.hosted.common import data_url


@dataclass(frozen=True)
class ModelPreset:
    name: str
    label: str
    licence: str
    # What the licence allows and anything else an operator must know (third-party parts, weights' terms).
    licence_note: str
    person_field: str
    garment_field: str
    description_field: str = ""
    category_field: str = ""
    # Category → the model's own value; a category missing here (e.g. outerwear) falls back to "auto" or tops.
    categories: Mapping[str, str] = field(default_factory=dict)
    steps_field: str = ""
    steps: Mapping[str, int] = field(default_factory=dict)
    seed_field: str = ""
    # Sent as they are with every prediction (the model's switches the adapter does not drive).
    fixed: Mapping[str, object] = field(default_factory=dict)
    confirmed: bool = False

    def inputs(self, request: TryOnRequest) -> tuple[dict[str, object], list[str]]:
        """The prediction's ``input`` object, and the requested options this model cannot honour."""
        if not request.garment_images:
            raise EngineError(EngineErrorCode.PRODUCT_IMAGE_INVALID, "The product has no image to try on.")
        options = request.options
        inputs: dict[str, object] = dict(self.fixed)
        # Cog resolves data: URLs into files before predict() runs, so no image leaves through a third party.
        inputs[self.person_field] = data_url(request.person_image, code=EngineErrorCode.CUSTOMER_IMAGE_INVALID)
        inputs[self.garment_field] = data_url(request.garment_images[0], code=EngineErrorCode.PRODUCT_IMAGE_INVALID)
        if self.description_field:
            text = " ".join(part for part in (request.title, request.description) if part).strip()
            inputs[self.description_field] = text[:300] or "a garment"
        if self.category_field:
            category = Category(request.category)
            value = self.categories.get(category.value) or self.categories.get(Category.AUTO.value)
            if value is None:
                value = self.categories.get(Category.TOPS.value)
            if value is not None:
                inputs[self.category_field] = value
        ignored: list[str] = []
        if self.steps_field and self.steps:
            inputs[self.steps_field] = self.steps.get(Quality(options.quality).value, self.steps.get("balanced"))
        elif "quality" in options.requested:
            ignored.append("quality")
        if options.seed is not None and self.seed_field:
            inputs[self.seed_field] = options.seed
        elif "seed" in options.requested:
            ignored.append("seed")
        if "garmentPhotoType" in options.requested:
            ignored.append("garmentPhotoType")  # none of these models takes a hint about the product photo
        return inputs, ignored


_VTON_CATEGORIES = {"tops": "upper_body", "outerwear": "upper_body", "bottoms": "lower_body", "dresses": "dresses"}

PRESETS: dict[str, ModelPreset] = {
    preset.name: preset
    for preset in (
        ModelPreset(
            name="idm-vton",
            label="IDM-VTON",
            licence="CC BY-NC-SA 4.0",
            licence_note="Non-commercial use only; derivatives under the same licence.",
            # As published on Replicate (cuuupid/idm-vton): human_img, garm_img, garment_des, category, steps, seed.
            person_field="human_img",
            garment_field="garm_img",
            description_field="garment_des",
            category_field="category",
            categories=_VTON_CATEGORIES,
            steps_field="steps",
            steps={"fast": 20, "balanced": 30, "quality": 40},
            seed_field="seed",
            fixed={"crop": False},
            confirmed=True,
        ),
        ModelPreset(
            name="fashn-vton-1.5",
            label="FASHN VTON v1.5",
            licence="Apache-2.0",
            licence_note=(
                "The model is Apache-2.0; its human parser (fashn-human-parser, fetched on first use) carries its "
                "own licence, which the operator must check before commercial use."
            ),
            # The model's pipeline takes person_image, garment_image and category (tops/bottoms/one-pieces); no
            # official Cog image was found, so a container's input names are assumed to follow the pipeline.
            person_field="person_image",
            garment_field="garment_image",
            category_field="category",
            categories={
                "tops": "tops",
                "outerwear": "tops",
                "bottoms": "bottoms",
                "dresses": "one-pieces",
                "auto": "tops",
            },
            seed_field="seed",
            confirmed=False,
        ),
        ModelPreset(
            name="catvton",
            label="CatVTON",
            licence="CC BY-NC-SA 4.0",
            licence_note="Non-commercial use only (check the licence of the weights you deploy).",
            # Names follow CatVTON's demo app (person_image, cloth_image, cloth_type upper/lower/overall,
            # num_inference_steps, seed); not confirmed against a published Cog image.
            person_field="person_image",
            garment_field="cloth_image",
            category_field="cloth_type",
            categories={"tops": "upper", "outerwear": "upper", "bottoms": "lower", "dresses": "overall"},
            steps_field="num_inference_steps",
            steps={"fast": 20, "balanced": 50, "quality": 75},
            seed_field="seed",
            confirmed=False,
        ),
        ModelPreset(
            name="leffa",
            label="Leffa",
            licence="MIT",
            licence_note="MIT for the code; check the terms of the weights and of its preprocessing models.",
            # Names follow Leffa's published demo API (src_image, ref_image, vt_garment_type upper_body/lower_body/
            # dresses, step, seed); not confirmed against a published Cog image.
            person_field="src_image",
            garment_field="ref_image",
            category_field="vt_garment_type",
            categories=_VTON_CATEGORIES,
            steps_field="step",
            steps={"fast": 20, "balanced": 30, "quality": 50},
            seed_field="seed",
            fixed={"vt_model_type": "viton_hd"},
            confirmed=False,
        ),
    )
}


def preset_from_json(text: str) -> ModelPreset:
    """A custom preset from settings: a JSON object with ModelPreset's fields (``person_field`` and
    ``garment_field`` required). Raises ValueError with the reason when it is not usable."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the custom preset is not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ValueError("the custom preset must be a JSON object")
    known = set(ModelPreset.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown custom preset fields: {', '.join(unknown)}")
    for required in ("person_field", "garment_field"):
        if not isinstance(data.get(required), str) or not data[required]:
            raise ValueError(f"the custom preset needs {required}")
    values = {"name": "custom", "label": "Custom model", "licence": "unknown", "licence_note": "", **data}
    return ModelPreset(**values)


def preset_get(*, name: str, custom_json: str = "") -> ModelPreset:
    """The preset called `name`; "custom" is read from `custom_json`. An unusable choice is a terminal error."""
    if name == "custom":
        try:
            return preset_from_json(custom_json)
        except ValueError as exc:
            raise EngineError(EngineErrorCode.ENGINE_ERROR, f"The custom model preset is not usable: {exc}.") from exc
    preset = PRESETS.get(name)
    if preset is None:
        names = ", ".join([*PRESETS, "custom"])
        raise EngineError(EngineErrorCode.ENGINE_ERROR, f"Unknown model preset {name!r} (one of: {names}).")
    return preset
