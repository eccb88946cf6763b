"""Per-call engine options [ext]: the `options` object of a try-on request, validated once by its schema
(`generations.serializers.TryOnEngineOptionsSerializer`), stored on the
generation as the client sent them, and turned into the engines' typed ``EngineOptions`` when a worker runs it.

`options.seed` (integer 0 to 2**31 - 1), `options.quality` (fast | balanced | quality, default balanced) and
`options.garmentPhotoType` (auto | flat-lay | model, default auto); unknown keys are refused. Which engine
honours which option is in docs/api.md; an engine that cannot honour one lists it in the generation's
diagnostics (``ignored_options``)."""

from __future__ import annotations

from rest_framework import serializers

from engines.base import EngineOptions, GarmentPhotoType, Quality
from tryon_project.api.request_schema import OBJECT_MESSAGE, OptionalChoiceField, StrictIntegerField, schema_validate

SEED_MAX = 2**31 - 1
ENGINE_OPTION_KEYS = ("seed", "quality", "garmentPhotoType")


_UNKNOWN_OPTION = f"is not a known option ({', '.join(ENGINE_OPTION_KEYS)})"


class TryOnEngineOptionsSerializer(serializers.Serializer):
    # [ext] Stored on the generation as the client sent them: only the options it set (docs/api.md).

    seed = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=SEED_MAX,
        message=f"must be an integer from 0 to {SEED_MAX}",
    )
    quality = OptionalChoiceField(choices=[choice.value for choice in Quality], required=False, default="balanced")
    garmentPhotoType = OptionalChoiceField(
        choices=[choice.value for choice in GarmentPhotoType], required=False, default="auto"
    )

    def to_internal_value(self, data):
        errors: dict = {}
        if isinstance(data, dict):
            errors = {key: [_UNKNOWN_OPTION] for key in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not errors or not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**exc.detail, **errors}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return {key: option for key, option in value.items() if data.get(key) is not None}


def engine_options_parse(*, value: object, path: str = "options") -> dict[str, object]:
    """The options the client set, checked by their schema: {} when `options` is absent; every offending key is
    reported (for callers that hold the options alone, such as the dashboard's playground)."""
    if value is None:
        return {}
    schema = TryOnEngineOptionsSerializer(data=value, error_messages={"invalid": OBJECT_MESSAGE})
    return schema_validate(schema=schema, paths={"": path})


def engine_options_build(*, stored: dict[str, object] | None) -> EngineOptions:
    """The engines' options from what the generation stored (a row from before options existed stores {})."""
    stored = stored or {}
    return EngineOptions(
        seed=stored.get("seed"),  # type: ignore[arg-type]
        quality=Quality(stored.get("quality") or Quality.BALANCED),
        garment_photo_type=GarmentPhotoType(stored.get("garmentPhotoType") or GarmentPhotoType.AUTO),
        requested=frozenset(key for key in ENGINE_OPTION_KEYS if stored.get(key) is not None),
    )
