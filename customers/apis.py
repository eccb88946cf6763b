from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import authenticated_account
from accounts.models import RetentionDays
from customers.erasure import customer_erase
from customers.models import ImageSource
from customers.services import customer_image_create
from tryon_project.api.datetimes import iso_ms
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.api.fields import (
    CUSTOMER_ID_NAMES,
    RETENTION_NAMES,
    DetailCollector,
    alias_key,
    parse_bool,
    parse_customer_id,
    parse_retention_days,
)
from tryon_project.api.idempotency import idempotent
from tryon_project.api.schema import IDEMPOTENCY_KEY_PARAMETER, error_responses
from tryon_project.images import check_file_size
from tryon_project.storage import blob_signed_url

UploadRequest = inline_serializer(
    name="ImageUpload",
    fields={
        "file": serializers.FileField(help_text="JPEG, PNG, WebP or HEIC/HEIF; at most 10 MB."),
        "crop": serializers.BooleanField(required=False, default=True, help_text="Crop 4:5 around the person."),
        "customerId": serializers.CharField(required=False, max_length=255),
        "externalUserId": serializers.CharField(required=False, max_length=255, help_text="1.4 name of customerId"),
        "retentionDays": serializers.ChoiceField(choices=RetentionDays.choices, required=False),
        "keepForDays": serializers.ChoiceField(choices=RetentionDays.choices, required=False, help_text="1.4 name"),
    },
)
UploadResponse = inline_serializer(
    name="ImageUploadResponse",
    fields={
        "imageId": serializers.CharField(),
        "imageUrl": serializers.URLField(),
        "expiresAt": serializers.DateTimeField(),
    },
)


class ImageUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="uploadImage",
        summary="Upload a customer photo",
        tags=["images"],
        request={"multipart/form-data": UploadRequest},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        # The form fields of each shape; the `file` part is attached as a file.
        examples=[
            OpenApiExample(
                "v1.1 multipart",
                value={"crop": True, "customerId": "shopper-42", "retentionDays": 7},
                request_only=True,
                media_type="multipart/form-data",
            ),
            OpenApiExample(
                "v1.4 multipart",
                value={"crop": True, "externalUserId": "shopper-42", "keepForDays": 7},
                request_only=True,
                media_type="multipart/form-data",
            ),
        ],
        responses={
            201: UploadResponse,
            **error_responses(
                ErrorCode.VALIDATION_FAILED,
                ErrorCode.FILE_REQUIRED,
                ErrorCode.INVALID_IMAGE,
                ErrorCode.PAYLOAD_TOO_LARGE,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                idempotent=True,
            ),
        },
    )
    @idempotent
    def post(self, request):
        form = request.data
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError(ErrorCode.FILE_REQUIRED, "A 'file' part is required.")
        customer_key = alias_key(data=form, names=CUSTOMER_ID_NAMES)
        retention_key = alias_key(data=form, names=RETENTION_NAMES)
        # Every offending field in one answer, as on the JSON bodies.
        collected = DetailCollector()
        crop = collected.collect(parse_bool, value=form.get("crop"), path="crop", default=True)
        customer_id = collected.collect(parse_customer_id, value=form.get(customer_key), path=customer_key)
        retention_days = collected.collect(parse_retention_days, value=form.get(retention_key), path=retention_key)
        collected.raise_if_any()
        # Refused from the declared size before the part is read into memory.
        check_file_size(size=upload.size or 0)
        image = customer_image_create(
            account=authenticated_account(request),
            data=upload.read(),
            crop=crop,
            customer_id=customer_id,
            retention_days=retention_days,
            source=ImageSource.UPLOAD,
        )
        signed = blob_signed_url(key=image.storage_key)
        return Response(
            {"imageId": image.id, "imageUrl": signed.url, "expiresAt": iso_ms(image.expires_at)}, status=201
        )


class CustomerEraseApi(APIView):
    @extend_schema(
        operation_id="deleteCustomer",
        summary="Erase one end user's data (GDPR)",
        tags=["customers"],
        parameters=[OpenApiParameter("customer_id", str, OpenApiParameter.PATH)],
        # 404 NOT_FOUND: an id of "." or ".." is resolved away by HTTP clients, leaving a path that is no route.
        responses={204: None, **error_responses(ErrorCode.NOT_FOUND)},
    )
    def delete(self, request, customer_id: str):
        customer_erase(account=authenticated_account(request), customer_id=customer_id)
        return Response(status=204)
