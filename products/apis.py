from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import authenticated_account
from products.request_parser import product_input_parse
from products.selectors import product_get, product_list_page
from products.serializers import (
    UPSERT_EXAMPLE_JSON,
    UPSERT_EXAMPLE_MULTIPART,
    UPSERT_FILE_PARTS,
    ProductListQuerySerializer,
    ProductListSerializer,
    ProductSerializer,
    ProductUpsertSerializer,
)
from products.services import product_delete, product_upsert
from tryon_project.api.errors import ErrorCode
from tryon_project.api.idempotency import idempotent
from tryon_project.api.multipart import BODY_PARSERS, body_parse
from tryon_project.api.schema import (
    IDEMPOTENCY_KEY_PARAMETER,
    error_responses,
    multipart_json_request,
    request_examples,
)

EXTERNAL_ID_PARAMETER = OpenApiParameter(
    "external_id",
    str,
    OpenApiParameter.PATH,
    description="The product's externalId (URL-encoded), or a one-shot product's `_anon_…` id.",
)


class ProductCollectionApi(APIView):
    parser_classes = BODY_PARSERS

    @extend_schema(
        operation_id="upsertProduct",
        summary="Create or partially update a catalog product",
        tags=["products"],
        request={
            "application/json": ProductUpsertSerializer,
            "multipart/form-data": multipart_json_request(
                body_component="ProductUpsertRequest", files=UPSERT_FILE_PARTS, example=UPSERT_EXAMPLE_MULTIPART
            ),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        examples=request_examples(json={"create": UPSERT_EXAMPLE_JSON}, multipart={"create": UPSERT_EXAMPLE_MULTIPART}),
        responses={
            200: OpenApiResponse(ProductSerializer, description="Updated."),
            201: OpenApiResponse(ProductSerializer, description="Created."),
            **error_responses(
                ErrorCode.VALIDATION_FAILED,
                ErrorCode.EXTERNAL_ID_REQUIRED,
                ErrorCode.PRODUCT_IMAGES_REQUIRED,
                ErrorCode.MULTIPART_FILE_NOT_FOUND,
                ErrorCode.INVALID_IMAGE_INPUT,
                ErrorCode.INVALID_IMAGE,
                ErrorCode.PAYLOAD_TOO_LARGE,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                idempotent=True,
            ),
        },
    )
    @idempotent
    def post(self, request):
        body = body_parse(request=request)
        item = product_input_parse(item=body.data, files=body, path_prefix="", require_external_id=True)
        product, created = product_upsert(
            account=authenticated_account(request), external_id=item.external_id, fields=item, mode="catalog"
        )
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED if created else 200)

    @extend_schema(
        operation_id="listProducts",
        summary="List catalog products (newest first, cursor pages)",
        tags=["products"],
        parameters=[ProductListQuerySerializer],
        responses={200: ProductListSerializer, **error_responses(ErrorCode.VALIDATION_FAILED)},
    )
    def get(self, request):
        query = ProductListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = product_list_page(
            account=authenticated_account(request),
            limit=query.validated_data["limit"],
            after=query.validated_data.get("cursor"),
        )
        return Response(
            {
                "items": ProductSerializer(page.items, many=True).data,
                "nextCursor": page.next_cursor,
                "hasMore": page.has_more,
                "count": len(page.items),
            }
        )


class ProductDetailApi(APIView):
    @extend_schema(
        operation_id="getProduct",
        summary="One product",
        tags=["products"],
        parameters=[EXTERNAL_ID_PARAMETER],
        responses={200: ProductSerializer, **error_responses(ErrorCode.PRODUCT_NOT_FOUND)},
    )
    def get(self, request, external_id: str):
        product = product_get(account=authenticated_account(request), external_id=external_id)
        return Response(ProductSerializer(product).data)

    @extend_schema(
        operation_id="deleteProduct",
        summary="Delete a product (past generations keep their own snapshot)",
        tags=["products"],
        parameters=[EXTERNAL_ID_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(ErrorCode.PRODUCT_NOT_FOUND),
        },
    )
    def delete(self, request, external_id: str):
        product_delete(account=authenticated_account(request), external_id=external_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
