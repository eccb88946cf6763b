"""OpenAPI descriptions of the try-on bodies and answers. Parsing itself is done by `request_parser` (one parser
for every accepted shape); the product item is the catalog's own (`products.serializers.ProductItemSerializer`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer, inline_serializer
from rest_framework import serializers

from accounts.models import RetentionDays
from products.serializers import ProductItemSerializer
from tryon_project.api.schema import GENERATION_ERROR_CODE_NAMES


# Every member of a try-on body is optional on the wire: which of the accepted shapes (1.0 to 1.4) a client uses
# decides which members it sends, and the request parser enforces "exactly one shape" with VALIDATION_FAILED.
# Classes rather than inline serializers: the OpenAPI generator names each component after one class.
class ImageSourceSerializer(serializers.Serializer):
    id = serializers.CharField(required=False, help_text="An imageId from /images/upload.")
    url = serializers.URLField(required=False, help_text="Downloaded by the server when the try-on is accepted.")
    fileKey = serializers.CharField(required=False, help_text="Names a multipart part.")


class TryOnCustomerSerializer(ImageSourceSerializer):
    source = ImageSourceSerializer(required=False, help_text="The 1.3 form: `{source: {id | url | fileKey}}`.")


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


@extend_schema_serializer(component_name="TryOn")
class TryOnRequestSerializer(serializers.Serializer):
    product = ProductItemSerializer(required=False, help_text="1.0-1.3 shape. The product item of `POST /products`.")
    products = serializers.ListField(
        child=ProductItemSerializer(),
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


# Examples the server accepts as they are, one per request shape (tests/contract/test_openapi_examples.py sends
# each one). The URLs stand for the client's own photos: replace them before trying a JSON example; the multipart
# ones run from the docs page once the two files are attached.
TRYON_EXAMPLES_JSON = {
    "v1.1": {
        "product": {
            "externalId": "tee-blue",
            "title": "Blue T-shirt",
            "images": [{"url": "https://cdn.example.com/shirt.jpg"}],
        },
        "customer": {"url": "https://cdn.example.com/person.jpg"},
        "customerId": "shopper-42",
        "retentionDays": 7,
        "useWatermark": True,
    },
    "v1.4": {
        "products": [
            {
                "externalId": "tee-blue",
                "title": "Blue T-shirt",
                "images": [{"source": {"url": "https://cdn.example.com/shirt.jpg"}}],
            }
        ],
        "person": {"image": {"source": {"url": "https://cdn.example.com/person.jpg"}}},
        "externalUserId": "shopper-42",
        "output": {"watermark": True, "keepForDays": 7},
    },
}
TRYON_EXAMPLES_MULTIPART = {
    "v1.1": {
        "product": {"externalId": "tee-blue", "title": "Blue T-shirt", "images": [{"fileKey": "garment"}]},
        "customer": {"fileKey": "person"},
        "customerId": "shopper-42",
    },
    "v1.4": {
        "products": [
            {"externalId": "tee-blue", "title": "Blue T-shirt", "images": [{"source": {"fileKey": "garment"}}]}
        ],
        "person": {"image": {"source": {"fileKey": "person"}}},
        "externalUserId": "shopper-42",
    },
}
TRYON_FILE_PARTS = {
    "garment": 'The garment photo that the examples\' product image `fileKey: "garment"` names.',
    "person": 'The person photo that the examples\' customer `fileKey: "person"` names.',
}


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
        "errorCode": serializers.ChoiceField(
            choices=GENERATION_ERROR_CODE_NAMES,
            required=False,
            help_text="Set when `status` is FAILED (docs/errors.md).",
        ),
        "errorMessage": serializers.CharField(required=False),
        "createdAt": serializers.DateTimeField(),
        "updatedAt": serializers.DateTimeField(),
        "completedAt": serializers.DateTimeField(required=False),
        "durationMs": serializers.IntegerField(required=False),
    },
)
