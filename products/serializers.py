"""Wire shapes of the product endpoints (camelCase, explicit nulls). Request bodies are validated by
`products.inputs.product_input_parse` (it owns the error codes); the request serializers here describe them for
the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from products.inputs import IMAGES_MAX, METADATA_MAX_BYTES, VALID_FOR_DAYS_MAX, VALID_FOR_DAYS_MIN
from products.models import EXTERNAL_ID_MAX_LENGTH, SOURCE_URL_MAX_LENGTH, ProductCategory
from products.selectors import CURSOR_SCOPE
from tryon_project.api.datetimes import IsoMsDateTimeField
from tryon_project.api.pagination import InvalidCursor, cursor_decode

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
# The one description of a product item, shared by `POST /products` and the inline and one-shot modes of `/try-on`
# (whose body reuses `ProductItemSerializer`). What is checked, and with which error code, is
# `products.inputs.product_input_parse`, which both operations call.


class ProductImageSourceSerializer(serializers.Serializer):
    url = serializers.URLField(required=False, max_length=SOURCE_URL_MAX_LENGTH)
    fileKey = serializers.CharField(required=False, help_text="Name of the multipart part holding the bytes.")


class ProductImageInputSerializer(ProductImageSourceSerializer):
    source = ProductImageSourceSerializer(required=False, help_text="The 1.3 form: `{source: {url | fileKey}}`.")


class ProductItemSerializer(serializers.Serializer):
    externalId = serializers.CharField(
        required=False,
        max_length=EXTERNAL_ID_MAX_LENGTH,
        help_text="Any character but `/`; must not start with `_anon_`. On `/try-on`: omitted = a one-shot "
        "product; alone = a reference to a catalog product; with other fields = an inline upsert.",
    )
    title = serializers.CharField(
        required=False, allow_null=True, help_text="On `/try-on`, exactly `mock`: an instant, free test generation."
    )
    description = serializers.CharField(required=False, allow_null=True)
    images = ProductImageInputSerializer(
        many=True, required=False, help_text=f"Required when creating; replaces the list. At most {IMAGES_MAX}."
    )
    imageUrls = serializers.ListField(
        child=serializers.URLField(), required=False, help_text="Deprecated: same as `images: [{url}]`."
    )
    metadata = serializers.DictField(
        required=False, allow_null=True, help_text=f"Any JSON object, at most {METADATA_MAX_BYTES} bytes."
    )
    validForDays = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=VALID_FOR_DAYS_MIN,
        max_value=VALID_FOR_DAYS_MAX,
        help_text="Days from last use; null = kept forever. Omitted on update = unchanged.",
    )
    category = serializers.ChoiceField(choices=ProductCategory.choices, required=False, help_text="[ext]")


class ProductUpsertSerializer(ProductItemSerializer):
    externalId = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH, help_text="Any character but `/`; must not start with `_anon_`."
    )


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
