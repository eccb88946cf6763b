"""OpenAPI descriptions of the try-on bodies. Parsing itself is done by `request_parser` (one parser for every
accepted shape); these serializers only document the wire format."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from accounts.models import RetentionDays
from products.models import ProductCategory


# Every member of a try-on body is optional on the wire: which of the accepted shapes (1.0 to 1.4) a client uses
# decides which members it sends, and the request parser enforces "exactly one shape" with VALIDATION_FAILED.
# Classes rather than inline serializers: the OpenAPI generator names each component after one class.
class ImageSourceSerializer(serializers.Serializer):
    id = serializers.CharField(required=False, help_text="An imageId from /images/upload (customer only).")
    url = serializers.URLField(required=False)
    fileKey = serializers.CharField(required=False, help_text="Names a multipart part.")


class TryOnProductImageSerializer(serializers.Serializer):
    url = serializers.URLField(required=False)
    fileKey = serializers.CharField(required=False)
    source = ImageSourceSerializer(required=False)


class TryOnProductItemSerializer(serializers.Serializer):
    externalId = serializers.CharField(required=False, max_length=255)
    title = serializers.CharField(required=False, help_text="Exactly `mock`: instant, free test generation.")
    description = serializers.CharField(required=False)
    images = TryOnProductImageSerializer(many=True, required=False)
    imageUrls = serializers.ListField(child=serializers.URLField(), required=False, help_text="Deprecated.")
    metadata = serializers.DictField(required=False)
    category = serializers.ChoiceField(choices=ProductCategory.choices, required=False, help_text="[ext]")


class TryOnCustomerSerializer(serializers.Serializer):
    id = serializers.CharField(required=False)
    url = serializers.URLField(required=False)
    fileKey = serializers.CharField(required=False)
    source = ImageSourceSerializer(required=False)


class TryOnPersonImageSerializer(serializers.Serializer):
    source = ImageSourceSerializer(required=False)


class TryOnPersonSerializer(serializers.Serializer):
    image = TryOnPersonImageSerializer(required=False)


class TryOnOutputSerializer(serializers.Serializer):
    watermark = serializers.BooleanField(required=False)
    keepForDays = serializers.ChoiceField(choices=RetentionDays.choices, required=False)


class TryOnEngineOptionsSerializer(serializers.Serializer):
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    quality = serializers.ChoiceField(choices=["fast", "balanced", "quality"], required=False, default="balanced")
    garmentPhotoType = serializers.ChoiceField(choices=["auto", "flat-lay", "model"], required=False, default="auto")


class TryOnRequestSerializer(serializers.Serializer):
    product = TryOnProductItemSerializer(required=False)
    products = serializers.ListField(
        child=TryOnProductItemSerializer(),
        required=False,
        min_length=1,
        max_length=1,
        help_text="1.4 shape: exactly one product.",
    )
    customer = TryOnCustomerSerializer(required=False)
    person = TryOnPersonSerializer(required=False)
    customerId = serializers.CharField(required=False, max_length=255)
    externalUserId = serializers.CharField(required=False, max_length=255)
    retentionDays = serializers.ChoiceField(choices=RetentionDays.choices, required=False)
    useWatermark = serializers.BooleanField(required=False, default=True)
    output = TryOnOutputSerializer(required=False)
    webhookUrl = serializers.URLField(required=False, help_text="[ext] One-off webhook target.")
    options = TryOnEngineOptionsSerializer(
        required=False,
        help_text="[ext] Per-call engine options; an engine that cannot honour one ignores it (docs/api.md).",
    )


class TryOnMultipartSerializer(serializers.Serializer):
    data = TryOnRequestSerializer(
        help_text="The JSON body (a part of type application/json, or a plain text field holding the JSON); "
        "every `fileKey` in it names another part carrying the bytes."
    )


AcceptedSerializer = inline_serializer(
    name="TryOnAccepted",
    fields={
        "generationId": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["PENDING"]),
        "productExternalId": serializers.CharField(),
    },
)

GenerationSerializer = inline_serializer(
    name="Generation",
    fields={
        "generationId": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["PENDING", "PROCESSING", "COMPLETED", "FAILED"]),
        "productExternalId": serializers.CharField(),
        "resultImageUrl": serializers.URLField(required=False),
        "resultImageExpiresAt": serializers.DateTimeField(required=False),
        "resultDeleted": serializers.BooleanField(required=False),
        "errorCode": serializers.CharField(required=False),
        "errorMessage": serializers.CharField(required=False),
        "createdAt": serializers.DateTimeField(),
        "updatedAt": serializers.DateTimeField(),
        "completedAt": serializers.DateTimeField(required=False),
        "durationMs": serializers.IntegerField(required=False),
    },
)
