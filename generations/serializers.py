"""The try-on body's one schema (what validates it and what the OpenAPI document shows) and the answers' shapes.
`request_parser` rewrites every accepted shape onto the schema's canonical members first; the product item is the
catalog's own (`products.serializers.ProductItemSerializer`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer, inline_serializer
from rest_framework import serializers

from accounts.models import RetentionDays
from generations.engine_options import TryOnEngineOptionsSerializer
from products.serializers import ProductItemSerializer
from tryon_project.api.request_schema import (
    CustomerIdField,
    FlagField,
    OptionalHttpUrlField,
    OptionalTextField,
    RequestSchema,
    RetentionDaysField,
    object_schema,
)
from tryon_project.api.schema import GENERATION_ERROR_CODE_NAMES

# The one schema of a try-on body. `generations.request_parser` rewrites every accepted shape (1.0/1.1 `product` +
# `customer`, 1.3 `source`, 1.4 `products[]` + `person` + `externalUserId` + `output`) onto its canonical members
# (`product`, `customer`, `customerId`, `retentionDays`, `useWatermark`, `webhookUrl`, `options`), which it then
# validates; the other members describe the newer names for the OpenAPI document and never reach validation.
# Classes rather than inline serializers: the OpenAPI generator names each component after one class.
_REF_MAX = 2048


class ImageSourceSerializer(serializers.Serializer):
    id = OptionalTextField(required=False, max_length=_REF_MAX, help_text="An imageId from /images/upload.")
    url = OptionalHttpUrlField(
        required=False, max_length=_REF_MAX, help_text="Downloaded by the server when the try-on is accepted."
    )
    fileKey = OptionalTextField(required=False, max_length=_REF_MAX, help_text="Names a multipart part.")

    def to_internal_value(self, data):
        sent = [
            kind for kind in ("id", "url", "fileKey") if isinstance(data, dict) and data.get(kind) not in (None, "")
        ]
        if len(sent) > 1:
            names = " and ".join(sent)
            raise serializers.ValidationError(
                {kind: [f"only one of id, url, fileKey may be sent ({names})"] for kind in sent}
            )
        # Nothing sent: CUSTOMER_IMAGE_REQUIRED, once every field error has been reported (request_parser).
        return super().to_internal_value(data)


class TryOnCustomerSerializer(ImageSourceSerializer):
    source = object_schema(
        ImageSourceSerializer, required=False, help_text="The 1.3 form: `{source: {id | url | fileKey}}`."
    )


class TryOnPersonImageSerializer(serializers.Serializer):
    source = object_schema(ImageSourceSerializer, required=False)


class TryOnPersonSerializer(serializers.Serializer):
    image = object_schema(TryOnPersonImageSerializer, required=False)


class TryOnOutputSerializer(serializers.Serializer):
    watermark = FlagField(required=False, help_text="1.4 name of `useWatermark`.")
    keepForDays = RetentionDaysField(
        choices=RetentionDays.choices, required=False, help_text="1.4 name of `retentionDays`."
    )


@extend_schema_serializer(component_name="TryOn")
class TryOnRequestSerializer(RequestSchema):
    # Not required: a 1.4 body names `products` instead (the shape normaliser reports a body with neither).
    product = object_schema(
        ProductItemSerializer, required=False, help_text="1.0-1.3 shape. The product item of `POST /products`."
    )
    products = serializers.ListField(
        child=ProductItemSerializer(),
        required=False,
        min_length=1,
        max_length=1,
        help_text="1.4 shape: exactly one product.",
    )
    customer = object_schema(TryOnCustomerSerializer, required=False)
    person = object_schema(TryOnPersonSerializer, required=False)
    customerId = CustomerIdField(required=False)
    externalUserId = CustomerIdField(required=False, help_text="1.4 name of `customerId`.")
    retentionDays = RetentionDaysField(choices=RetentionDays.choices, required=False)
    useWatermark = FlagField(required=False, default=True)
    output = object_schema(TryOnOutputSerializer, required=False)
    # Only its type and length here: whether the URL may be called is the safe fetcher's rule (`url_validate`),
    # applied by generation_create before anything is created, with the fetcher's own messages.
    webhookUrl = OptionalTextField(
        required=False, max_length=_REF_MAX, help_text="[ext] One-off webhook target (an http or https URL)."
    )
    options = object_schema(
        TryOnEngineOptionsSerializer,
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
