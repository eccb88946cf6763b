from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_account
from products.inputs import product_input_parse
from products.selectors import product_get, product_list_page
from products.serializers import (
    ProductListQuerySerializer,
    ProductListSerializer,
    ProductSerializer,
    ProductUpsertMultipartSerializer,
    ProductUpsertSerializer,
)
from products.services import product_delete, product_upsert
from tryon_project.api.idempotency import idempotent
from tryon_project.api.multipart import BODY_PARSERS, body_parse
from tryon_project.api.schema import error_responses, multipart_json_request

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
            "multipart/form-data": multipart_json_request(ProductUpsertMultipartSerializer),
        },
        responses={
            200: OpenApiResponse(ProductSerializer, description="Updated."),
            201: OpenApiResponse(ProductSerializer, description="Created."),
            **error_responses(400, 401, 413, 415, 429),
        },
    )
    @idempotent
    def post(self, request):
        body = body_parse(request=request)
        item = product_input_parse(item=body.data, files=body, path_prefix="", require_external_id=True)
        product, created = product_upsert(
            account=request_account(request), external_id=item.external_id, fields=item, mode="catalog"
        )
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED if created else 200)

    @extend_schema(
        operation_id="listProducts",
        summary="List catalog products (newest first, cursor pages)",
        tags=["products"],
        parameters=[ProductListQuerySerializer],
        responses={200: ProductListSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request):
        query = ProductListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = product_list_page(
            account=request_account(request),
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
        responses={200: ProductSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, external_id: str):
        product = product_get(account=request_account(request), external_id=external_id)
        return Response(ProductSerializer(product).data)

    @extend_schema(
        operation_id="deleteProduct",
        summary="Delete a product (past generations keep their own snapshot)",
        tags=["products"],
        parameters=[EXTERNAL_ID_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 404, 429)},
    )
    def delete(self, request, external_id: str):
        product_delete(account=request_account(request), external_id=external_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
