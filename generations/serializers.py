"""OpenAPI descriptions of the try-on bodies. Parsing itself is done by `request_parser` (one parser for every
accepted shape); these serializers only document the wire format."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from accounts.models import RetentionDays
from products.models import ProductCategory

_SOURCE = inline_serializer(
    name="ImageSource",
    fields={
        "id": serializers.CharField(required=False, help_text="An imageId from /images/upload (customer only)."),
        "url": serializers.URLField(required=False),
        "fileKey": serializers.CharField(required=False, help_text="Names a multipart part."),
    },
)

_PRODUCT_IMAGE = inline_serializer(
    name="TryOnProductImage",
    fields={
        "url": serializers.URLField(required=False),
        "fileKey": serializers.CharField(required=False),
        "source": _SOURCE,
    },
)

_PRODUCT_ITEM = inline_serializer(
    name="TryOnProductItem",
    fields={
        "externalId": serializers.CharField(required=False, max_length=255),
        "title": serializers.CharField(required=False, help_text="Exactly `mock`: instant, free test generation."),
        "description": serializers.CharField(required=False),
        "images": serializers.ListField(child=_PRODUCT_IMAGE, required=False),
        "imageUrls": serializers.ListField(child=serializers.URLField(), required=False, help_text="Deprecated."),
        "metadata": serializers.DictField(required=False),
        "category": serializers.ChoiceField(choices=ProductCategory.choices, required=False, help_text="[ext]"),
    },
)

TryOnRequestSerializer = inline_serializer(
    name="TryOnRequest",
    fields={
        "product": _PRODUCT_ITEM,
        "products": serializers.ListField(child=_PRODUCT_ITEM, required=False, min_length=1, max_length=1,
                                          help_text="1.4 shape: exactly one product."),
        "customer": inline_serializer(
            name="TryOnCustomer",
            fields={
                "id": serializers.CharField(required=False),
                "url": serializers.URLField(required=False),
                "fileKey": serializers.CharField(required=False),
                "source": _SOURCE,
            },
        ),
        "person": inline_serializer(
            name="TryOnPerson",
            fields={"image": inline_serializer(name="TryOnPersonImage", fields={"source": _SOURCE})},
        ),
        "customerId": serializers.CharField(required=False, max_length=255),
        "externalUserId": serializers.CharField(required=False, max_length=255),
        "retentionDays": serializers.ChoiceField(choices=RetentionDays.choices, required=False),
        "useWatermark": serializers.BooleanField(required=False, default=True),
        "output": inline_serializer(
            name="TryOnOutput",
            fields={
                "watermark": serializers.BooleanField(required=False),
                "keepForDays": serializers.ChoiceField(choices=RetentionDays.choices, required=False),
            },
        ),
        "webhookUrl": serializers.URLField(required=False, help_text="[ext] One-off webhook target."),
    },
)

TryOnMultipartSerializer = inline_serializer(
    name="TryOnMultipart",
    fields={"data": serializers.CharField(help_text="The JSON body as a string; other parts are named by fileKey.")},
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
