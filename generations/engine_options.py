"""Per-call engine options [ext]: the `options` object of a try-on request, validated once, stored on the
generation as the client sent them, and turned into the engines' typed ``EngineOptions`` when a worker runs it.

`options.seed` (integer 0 to 2**31 - 1), `options.quality` (fast | balanced | quality, default balanced) and
`options.garmentPhotoType` (auto | flat-lay | model, default auto); unknown keys are refused. Which engine
honours which option is in docs/api.md; an engine that cannot honour one lists it in the generation's
diagnostics (``ignored_options``)."""

from __future__ import annotations

from engines.base import EngineOptions, GarmentPhotoType, Quality
from tryon_project.api.errors import ErrorDetail, validation_error

SEED_MAX = 2**31 - 1
_KEYS = ("seed", "quality", "garmentPhotoType")


def engine_options_parse(*, value: object, path: str = "options") -> dict[str, object]:
    """The options the client set, checked: {} when `options` is absent. Every offending key is reported."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise validation_error([ErrorDetail(path=path, message="must be an object")])
    details: list[ErrorDetail] = []
    parsed: dict[str, object] = {}
    for key in sorted(set(value) - set(_KEYS)):
        details.append(
            ErrorDetail(path=f"{path}.{key}", message="is not a known option (seed, quality, garmentPhotoType)")
        )
    if "seed" in value and value["seed"] is not None:
        seed = value["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            details.append(ErrorDetail(path=f"{path}.seed", message=f"must be an integer from 0 to {SEED_MAX}"))
        else:
            parsed["seed"] = seed
    for key, choices in (("quality", Quality), ("garmentPhotoType", GarmentPhotoType)):
        if key in value and value[key] is not None:
            allowed = [choice.value for choice in choices]
            if value[key] not in allowed:
                details.append(ErrorDetail(path=f"{path}.{key}", message=f"must be one of {', '.join(allowed)}"))
            else:
                parsed[key] = value[key]
    if details:
        raise validation_error(details)
    return parsed


def engine_options_build(*, stored: dict[str, object] | None) -> EngineOptions:
    """The engines' options from what the generation stored (a row from before options existed stores {})."""
    stored = stored or {}
    return EngineOptions(
        seed=stored.get("seed"),  # type: ignore[arg-type]
        quality=Quality(stored.get("quality") or Quality.BALANCED),
        garment_photo_type=GarmentPhotoType(stored.get("garmentPhotoType") or GarmentPhotoType.AUTO),
        requested=frozenset(key for key in _KEYS if stored.get(key) is not None),
    )
