from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import authenticated_account
from customers.erasure import customer_erase
from customers.models import ImageSource
from customers.request_parser import image_upload_parse
from customers.serializers import ImageUploadResponseSerializer, ImageUploadSerializer
from customers.services import customer_image_create
from tryon_project.api.datetimes import iso_ms
from tryon_project.api.errors import ErrorCode
from tryon_project.api.idempotency import idempotent
from tryon_project.api.schema import IDEMPOTENCY_KEY_PARAMETER, error_responses
from tryon_project.storage import blob_signed_url


class ImageUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="uploadImage",
        summary="Upload a customer photo",
        tags=["images"],
        request={"multipart/form-data": ImageUploadSerializer},
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
            201: ImageUploadResponseSerializer,
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
        upload = image_upload_parse(form=request.data, upload=request.FILES.get("file"))
        image = customer_image_create(
            account=authenticated_account(request),
            data=upload.data,
            crop=upload.crop,
            customer_id=upload.customer_id,
            retention_days=upload.retention_days,
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
