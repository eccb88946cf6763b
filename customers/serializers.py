"""Wire shapes of `POST /images/upload`: the one schema of its form (what validates it and what the OpenAPI document
shows) and its answer. `customers.request_parser` rewrites the form onto the schema's canonical members first (the
1.4 names `externalUserId` and `keepForDays` onto `customerId` and `retentionDays`), which is why those members are
described here but never reach validation."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.models import RetentionDays
from tryon_project.api.errors import ErrorCode
from tryon_project.api.request_schema import (
    CustomerIdField,
    FilePartField,
    FlagField,
    RequestSchema,
    RetentionDaysField,
)


@extend_schema_serializer(component_name="ImageUpload")
class ImageUploadSerializer(RequestSchema):
    file = FilePartField(help_text="JPEG, PNG, WebP or HEIC/HEIF; at most 10 MB.")
    crop = FlagField(required=False, default=True, help_text="Crop 4:5 around the person.")
    customerId = CustomerIdField(required=False)  # wire names are camelCase
    externalUserId = CustomerIdField(required=False, help_text="1.4 name of customerId")
    retentionDays = RetentionDaysField(choices=RetentionDays.choices, required=False)
    keepForDays = RetentionDaysField(choices=RetentionDays.choices, required=False, help_text="1.4 name")

    # A form without its photo is its own answer, whatever else is wrong with it.
    required_codes = {"file": (ErrorCode.FILE_REQUIRED, "A 'file' part is required.")}


@extend_schema_serializer(component_name="ImageUploadResponse")
class ImageUploadResponseSerializer(serializers.Serializer):
    imageId = serializers.CharField()
    imageUrl = serializers.URLField()
    expiresAt = serializers.DateTimeField()
