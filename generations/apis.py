from __future__ import annotations

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import authenticated_account
from generations.request_parser import tryon_input_parse
from generations.selectors import (
    generation_accepted_wire,
    generation_poll_wire,
    generation_wire,
    generation_wire_row,
    product_generation_stats,
)
from generations.serializers import (
    TRYON_EXAMPLES_JSON,
    TRYON_EXAMPLES_MULTIPART,
    TRYON_FILE_PARTS,
    AcceptedSerializer,
    GenerationSerializer,
    TryOnRequestSerializer,
)
from generations.services.create import generation_create
from products.apis import EXTERNAL_ID_PARAMETER
from products.selectors import product_get
from products.serializers import ProductStatsQuerySerializer, ProductStatsSerializer
from tryon_project.api.errors import ErrorCode
from tryon_project.api.idempotency import REPLAYED_HEADER, idempotent
from tryon_project.api.multipart import BODY_PARSERS, body_parse
from tryon_project.api.responses import COMPACT
from tryon_project.api.schema import (
    IDEMPOTENCY_KEY_PARAMETER,
    error_responses,
    multipart_json_request,
    request_examples,
)

logger = logging.getLogger("tryon.generations")

_TRYON_REQUEST = {
    "application/json": TryOnRequestSerializer,
    "multipart/form-data": multipart_json_request(
        body_component="TryOnRequest", files=TRYON_FILE_PARTS, example=TRYON_EXAMPLES_MULTIPART["v1.1"]
    ),
}
_TRYON_EXAMPLES = request_examples(json=TRYON_EXAMPLES_JSON, multipart=TRYON_EXAMPLES_MULTIPART)
_TRYON_ERRORS = error_responses(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.PRODUCT_IMAGES_REQUIRED,
    ErrorCode.CUSTOMER_IMAGE_REQUIRED,
    ErrorCode.MULTIPART_FILE_NOT_FOUND,
    ErrorCode.INVALID_IMAGE_INPUT,
    ErrorCode.INVALID_IMAGE,
    ErrorCode.CUSTOMER_IMAGE_FETCH_FAILED,
    ErrorCode.INSUFFICIENT_CREDITS,
    ErrorCode.PRODUCT_NOT_FOUND,
    ErrorCode.IMAGE_NOT_FOUND,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    idempotent=True,
)


class TryOnApi(APIView):
    parser_classes = BODY_PARSERS

    @extend_schema(
        operation_id="createTryOn",
        summary="Start a try-on (1 credit)",
        tags=["try-on"],
        request=_TRYON_REQUEST,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        examples=_TRYON_EXAMPLES,
        responses={202: AcceptedSerializer, **_TRYON_ERRORS},
    )
    @idempotent
    def post(self, request):
        body = body_parse(request=request)
        tryon = tryon_input_parse(data=body.data, body=body)
        generation = generation_create(account=authenticated_account(request), tryon=tryon)
        return Response(generation_accepted_wire(generation=generation), status=202)


class TryOnSyncAcceptApi(TryOnApi):
    """The accepting half of /try-on/sync; the waiting half is `tryon_sync_view`."""

    @extend_schema(
        operation_id="createTryOnSync",
        summary="Start a try-on and wait for it (up to 90 s)",
        tags=["try-on"],
        request=_TRYON_REQUEST,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        examples=_TRYON_EXAMPLES,
        responses={200: GenerationSerializer, 202: AcceptedSerializer, **_TRYON_ERRORS},
    )
    def post(self, request):
        return super().post(request)


# The poll's body is built as a dict already: written out directly, as DRF's renderer would write it (compact,
# UTF-8), without content negotiation and rendering on the hottest route.
_POLL_JSON = {**COMPACT, "ensure_ascii": False}
_accept = csrf_exempt(TryOnSyncAcceptApi.as_view())


def _release_connection() -> None:
    """Hand this thread's database connection back to the pool between polls, so a waiting request holds none.
    (Inside a transaction — only ever the case in tests — the connection must stay.)"""
    if not connection.in_atomic_block:
        connection.close()


def _terminal_wire(generation_id: str) -> dict | None:
    try:
        # The poll's own compiled read: many waiting requests cost a cheap query each, not an ORM compilation.
        row = generation_wire_row(generation_id=generation_id)
        if row is None or not row.is_terminal:
            return None
        return generation_wire(generation=row)
    finally:
        _release_connection()


def _first_read(generation_id: str) -> tuple[dict | None, bool]:
    """The first status read, plus whether later reads may run on other threads. They may not on SQLite: it has
    no pool to share, and its shared-cache in-memory database refuses other connections' reads while a writer's
    transaction is open ("database table is locked"); nor inside an open transaction, whose rows only this
    connection sees."""
    keep_thread = connection.vendor == "sqlite" or connection.in_atomic_block
    return _terminal_wire(generation_id), not keep_thread


@csrf_exempt
async def tryon_sync_view(request):
    """Accept like /try-on, then wait without holding a thread: the event loop sleeps between cheap status reads,
    so many concurrent waits cost a coroutine each, not a worker thread or a database connection each."""
    response = await sync_to_async(_accept)(request)
    if response.status_code != 202:
        return response
    generation_id = response.data["generationId"]
    deadline = time.monotonic() + settings.TRYON_SYNC_WAIT_SECONDS
    delay = 0.1
    # The first read runs on the request's own thread and connection (it sees what the accept just wrote); on
    # PostgreSQL the polls after it share a small pool, so waiting requests do not each hold a database connection.
    wire, share_pool = await sync_to_async(_first_read)(generation_id)
    read = sync_to_async(_terminal_wire, thread_sensitive=not share_pool)
    while wire is None and time.monotonic() + delay <= deadline:
        await asyncio.sleep(delay)
        delay = min(1.0, delay * 1.5)
        wire = await read(generation_id)
    final = JsonResponse(
        wire if wire is not None else response.data, status=200 if wire is not None else 202, json_dumps_params=COMPACT
    )
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", REPLAYED_HEADER):
        if response.has_header(header):
            final[header] = response[header]
    return final


# The OpenAPI generator documents this route from the DRF view that does the accepting.
tryon_sync_view.cls = TryOnSyncAcceptApi
tryon_sync_view.initkwargs = {}


class GenerationDetailApi(APIView):
    @extend_schema(
        operation_id="getGeneration",
        summary="Poll a generation",
        tags=["try-on"],
        parameters=[OpenApiParameter("generation_id", str, OpenApiParameter.PATH)],
        responses={
            200: GenerationSerializer,
            **error_responses(ErrorCode.FORBIDDEN, ErrorCode.GENERATION_NOT_FOUND),
        },
    )
    def get(self, request, generation_id: str):
        return JsonResponse(
            generation_poll_wire(account=authenticated_account(request), generation_id=generation_id),
            json_dumps_params=_POLL_JSON,
        )


class ProductStatsApi(APIView):
    """`GET /products/{externalId}/stats`: a catalog route, served here because the figures are generations'."""

    @extend_schema(
        operation_id="getProductStats",
        summary="Generation statistics of one product",
        tags=["products"],
        parameters=[EXTERNAL_ID_PARAMETER, ProductStatsQuerySerializer],
        responses={
            200: ProductStatsSerializer,
            **error_responses(ErrorCode.VALIDATION_FAILED, ErrorCode.PRODUCT_NOT_FOUND),
        },
    )
    def get(self, request, external_id: str):
        query = ProductStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = authenticated_account(request)
        product = product_get(account=account, external_id=external_id)
        figures = product_generation_stats(
            account=account,
            external_id=product.external_id,
            date_from=query.validated_data.get("from"),
            date_to=query.validated_data.get("to"),
        )
        return Response(figures)
