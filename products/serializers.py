"""Wire shapes of the product endpoints (camelCase, explicit nulls): the answers, and the one schema of a product
item, which validates every request that carries one and is what the OpenAPI document describes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from products.inputs import (
    DESCRIPTION_MAX_LENGTH,
    IMAGES_MAX,
    METADATA_MAX_BYTES,
    TITLE_MAX_LENGTH,
    VALID_FOR_DAYS_MAX,
    VALID_FOR_DAYS_MIN,
)
from products.models import ANON_PREFIX, EXTERNAL_ID_MAX_LENGTH, SOURCE_URL_MAX_LENGTH, ProductCategory
from products.selectors import CURSOR_SCOPE
from tryon_project.api.datetimes import IsoMsDateTimeField
from tryon_project.api.errors import ErrorCode
from tryon_project.api.pagination import InvalidCursor, cursor_decode
from tryon_project.api.request_schema import (
    OBJECT_MESSAGE,
    REQUIRED_MESSAGE,
    ChoiceField,
    FileKeyField,
    HttpUrlField,
    JsonObjectField,
    RequestSchema,
    StrictIntegerField,
    TextField,
)

LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 50, 200


# --- Responses ---------------------------------------------------------------------------------------------------


class ProductImageSerializer(serializers.Serializer):
    sourceUrl = serializers.CharField(  # wire names are camelCase
        source="public_source_url", help_text="The supplied URL, or an opaque `upload://…` reference."
    )
    order = serializers.IntegerField()


class ProductSerializer(serializers.Serializer):
    externalId = serializers.CharField(source="external_id")
    title = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(allow_null=True)
    validForDays = serializers.IntegerField(source="valid_for_days", allow_null=True)
    expiresAt = IsoMsDateTimeField(source="expires_at", allow_null=True)
    lastUsedAt = IsoMsDateTimeField(source="last_used_at", allow_null=True)
    createdAt = IsoMsDateTimeField(source="created_at")
    updatedAt = IsoMsDateTimeField(source="updated_at")
    images = ProductImageSerializer(many=True)
    category = serializers.ChoiceField(
        choices=ProductCategory.choices,
        required=False,
        help_text="[ext] Present only when set to something other than `auto`, so v1 clients see the v1 shape.",
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("category") == ProductCategory.AUTO:
            del data["category"]
        return data


class ProductListSerializer(serializers.Serializer):
    items = ProductSerializer(many=True)
    nextCursor = serializers.CharField(allow_null=True)
    hasMore = serializers.BooleanField()
    count = serializers.IntegerField(help_text="Number of items in this page.")


class ProductStatsSerializer(serializers.Serializer):
    totalGenerations = serializers.IntegerField()
    completedGenerations = serializers.IntegerField()
    failedGenerations = serializers.IntegerField()
    avgGenerationTimeMs = serializers.IntegerField()


# --- Requests ----------------------------------------------------------------------------------------------------
# The one definition of a product item, shared by `POST /products` and the inline and one-shot modes of `/try-on`
# (whose body nests `ProductItemSerializer`): it validates the canonical item and is what the OpenAPI document shows.
# `products.request_parser` rewrites the older shapes onto it first (`imageUrls`, `{source: {...}}`), which is why
# those members are described here but never reach validation.


class _ExternalIdField(TextField):
    """Shop platforms often hand out numeric product ids: they are the same id as their decimal string. A blank id
    is no id (a one-shot product on `/try-on`, EXTERNAL_ID_REQUIRED on `POST /products`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=EXTERNAL_ID_MAX_LENGTH, allow_blank=False, **kwargs)
        self.error_messages["required"] = REQUIRED_MESSAGE

    def validate_empty_values(self, data):
        if data is None or (isinstance(data, str) and not data.strip()):
            data = empty
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        value = super().to_internal_value(data)
        if len(value) > EXTERNAL_ID_MAX_LENGTH:
            self.fail("max_length", max_length=EXTERNAL_ID_MAX_LENGTH)
        return value


class _CategoryField(ChoiceField):
    def validate_empty_values(self, data):
        if data is None:  # null: back to automatic detection
            return (True, ProductCategory.AUTO)
        return super().validate_empty_values(data)


_ENTRY_MESSAGE = "must be an object with url or fileKey"


class ProductImageSourceSerializer(serializers.Serializer):
    url = HttpUrlField(max_length=SOURCE_URL_MAX_LENGTH, required=False, allow_null=True)
    fileKey = FileKeyField(required=False, allow_null=True, help_text="Name of the multipart part holding the bytes.")

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value.get("url") is not None and value.get("fileKey") is not None:
            raise serializers.ValidationError("must have either url or fileKey, not both")
        # An entry with neither is INVALID_IMAGE_INPUT, once the rest of the item is valid (request_parser).
        return {key: item for key, item in value.items() if item is not None}


class ProductImageInputSerializer(ProductImageSourceSerializer):
    source = ProductImageSourceSerializer(
        required=False,
        error_messages={"invalid": _ENTRY_MESSAGE, "null": _ENTRY_MESSAGE},
        help_text="The 1.3 form: `{source: {url | fileKey}}`.",
    )


class ProductItemSerializer(RequestSchema):
    externalId = _ExternalIdField(
        required=False,
        help_text="Any character but `/`; must not start with `_anon_`. On `/try-on`: omitted = a one-shot "
        "product; alone = a reference to a catalog product; with other fields = an inline upsert.",
    )
    title = TextField(
        required=False,
        allow_null=True,
        max_length=TITLE_MAX_LENGTH,
        help_text="On `/try-on`, exactly `mock`: an instant, free test generation.",
    )
    description = TextField(required=False, allow_null=True, max_length=DESCRIPTION_MAX_LENGTH)
    images = ProductImageInputSerializer(
        many=True,
        required=False,
        max_length=IMAGES_MAX,
        error_messages={"not_a_list": "must be an array", "max_length": f"must hold at most {IMAGES_MAX} images"},
        help_text=f"Required when creating; replaces the list. At most {IMAGES_MAX}.",
    )
    imageUrls = serializers.ListField(
        child=HttpUrlField(max_length=SOURCE_URL_MAX_LENGTH),
        required=False,
        max_length=IMAGES_MAX,
        help_text="Deprecated: same as `images: [{url}]`.",
    )
    metadata = JsonObjectField(
        max_bytes=METADATA_MAX_BYTES, required=False, help_text=f"Any JSON object, at most {METADATA_MAX_BYTES} bytes."
    )
    validForDays = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=VALID_FOR_DAYS_MIN,
        max_value=VALID_FOR_DAYS_MAX,
        message=f"must be an integer from {VALID_FOR_DAYS_MIN} to {VALID_FOR_DAYS_MAX}, or null",
        help_text="Days from last use; null = kept forever. Omitted on update = unchanged.",
    )
    category = _CategoryField(choices=ProductCategory.choices, required=False, help_text="[ext]")

    # `POST /products` names a client id; `/try-on` may omit it (a one-shot product) or send a one-shot's `_anon_` id.
    external_id_required: ClassVar[bool] = False

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("error_messages", {"invalid": OBJECT_MESSAGE, "null": OBJECT_MESSAGE})
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        # The id rules that depend on the rest of the item, reported with the field errors (one answer).
        errors: dict = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict) or api_settings.NON_FIELD_ERRORS_KEY in exc.detail:
                raise
            errors, value = dict(exc.detail), None
        if "externalId" not in errors:
            message = self._external_id_refusal(data)
            if message:
                errors["externalId"] = [message]
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def _external_id_refusal(self, data: dict) -> str:
        external_id = data.get("externalId")
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str):
            return ""
        is_reference = not any(key in data for key in self.fields if key != "externalId")
        if external_id.startswith(ANON_PREFIX) and (self.external_id_required or not is_reference):
            return f"must not start with the reserved prefix '{ANON_PREFIX}'"
        if "/" in external_id and not is_reference:
            # The id is a path segment of /products/{externalId} and /products/{externalId}/stats: with "/"
            # allowed, "a/stats" and the stats of "a" would be one path (docs/products.md).
            return "must not contain '/'"
        return ""


class ProductUpsertSerializer(ProductItemSerializer):
    externalId = _ExternalIdField(help_text="Any character but `/`; must not start with `_anon_`.")

    external_id_required = True
    required_codes = {"externalId": (ErrorCode.EXTERNAL_ID_REQUIRED, "externalId is required.")}


# Examples the server accepts as they are (tests/contract/test_openapi_examples.py sends each one). The URLs stand
# for the client's own: replace them before trying one.
UPSERT_EXAMPLE_JSON = {
    "externalId": "tee-blue",
    "title": "Blue T-shirt",
    "description": "Crew neck, 100% cotton.",
    "images": [{"url": "https://cdn.example.com/shirt.jpg"}],
    "metadata": {"sku": "TEE-BLUE-M"},
    "validForDays": 30,
}
UPSERT_EXAMPLE_MULTIPART = {
    "externalId": "tee-red",
    "title": "Red T-shirt",
    "images": [{"fileKey": "garment"}],
}
UPSERT_FILE_PARTS = {"garment": 'The garment photo that `images[].fileKey: "garment"` names.'}


# --- Query parameters --------------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": LIST_LIMIT_MAX},
            {"type": "string", "maxLength": 0, "description": "empty: the default"},
        ],
        "default": LIST_LIMIT_DEFAULT,
    }
)
class _LimitField(serializers.IntegerField):
    """An empty `limit=` means the default, as for every optional query parameter (DRF reads a blank form value
    as omitted); the schema says so, or a contract test would count `?limit=` as invalid data accepted."""


class ProductListQuerySerializer(serializers.Serializer):
    limit = _LimitField(required=False, default=LIST_LIMIT_DEFAULT, min_value=1, max_value=LIST_LIMIT_MAX)
    cursor = serializers.CharField(
        required=False, allow_blank=True, help_text="`nextCursor` of the previous page; empty or omitted: the first."
    )

    def validate_cursor(self, value: str):
        if not value:
            return None
        try:
            return cursor_decode(cursor=value, scope=CURSOR_SCOPE)
        except InvalidCursor as exc:
            raise serializers.ValidationError("is not a cursor returned by this API") from exc


@extend_schema_field(OpenApiTypes.STR)
class _InstantField(serializers.Field):
    """ISO 8601 date-time (UTC when no offset is given) or date; a date `to` covers its whole day."""

    def __init__(self, *, end_of_day: bool, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> datetime:
        text = str(data).strip()
        if "T" in text:
            # An unencoded "+" of a UTC offset arrives as a space in a query string.
            text = text.replace(" ", "+")
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                start = datetime.combine(day, time.min, tzinfo=UTC)
                return start + timedelta(days=1, microseconds=-1) if self.end_of_day else start
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise serializers.ValidationError("must be an ISO 8601 date or date-time") from exc
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def to_representation(self, value):
        return value


class ProductStatsQuerySerializer(serializers.Serializer):
    def get_fields(self):
        # `from` is a Python keyword, so the fields cannot be class attributes.
        return {
            "from": _InstantField(end_of_day=False, required=False, help_text="Inclusive lower bound (ISO 8601)."),
            "to": _InstantField(end_of_day=True, required=False, help_text="Inclusive upper bound (ISO 8601)."),
        }

    def validate(self, attrs):
        if "from" in attrs and "to" in attrs and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": "must not be after to"})
        return attrs
