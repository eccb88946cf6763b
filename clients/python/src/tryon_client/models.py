"""The API's JSON bodies as typed dictionaries, with the wire format's own (camelCase) names.

Answers are the parsed JSON as the server sent it: a field the documentation says is omitted when it does not
apply is `NotRequired` here, never `None`. Requests are typed the same way, so a body built by hand is checked
by the type checker against the same names the server reads (docs/api.md, docs/openapi.json).
"""

# No `from __future__ import annotations` here: TypedDict reads `NotRequired` from the evaluated annotations, and
# as strings the runtime's `__required_keys__` would count every field as required.
from typing import Any, Literal, NotRequired, TypedDict

GenerationStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"COMPLETED", "FAILED"})

GenerationErrorCode = Literal[
    "PRODUCT_IMAGE_FETCH_FAILED",
    "PRODUCT_IMAGE_INVALID",
    "CUSTOMER_IMAGE_INVALID",
    "PERSON_NOT_DETECTED",
    "UNSUPPORTED_PRODUCT",
    "CONTENT_REJECTED",
    "ENGINE_ERROR",
    "PERSON_POSE_UNSUPPORTED",
    "PRODUCT_PHOTO_UNSUPPORTED",
    "ENGINE_QUOTA_EXCEEDED",
    "GENERATION_TIMEOUT",
    "CUSTOMER_DATA_DELETED",
]
ProductCategory = Literal["tops", "bottoms", "dresses", "outerwear", "auto"]
RetentionDays = Literal[1, 3, 7]
Quality = Literal["fast", "balanced", "quality"]
GarmentPhotoType = Literal["auto", "flat-lay", "model"]


# Answers ---------------------------------------------------------------------------------------------------------


class ErrorDetail(TypedDict):
    path: str
    message: str


class ErrorBody(TypedDict):
    code: str
    message: str
    status: int
    details: NotRequired[list[ErrorDetail]]


class CreditBalance(TypedDict):
    creditBalance: int


class ImageUpload(TypedDict):
    imageId: str
    imageUrl: str
    expiresAt: str


class TryOnAccepted(TypedDict):
    generationId: str
    status: GenerationStatus
    productExternalId: str


class Generation(TypedDict):
    generationId: str
    status: GenerationStatus
    productExternalId: str
    createdAt: str
    updatedAt: str
    resultImageUrl: NotRequired[str]
    resultImageExpiresAt: NotRequired[str]
    resultDeleted: NotRequired[bool]
    errorCode: NotRequired[GenerationErrorCode]
    errorMessage: NotRequired[str]
    completedAt: NotRequired[str]
    durationMs: NotRequired[int]


class ProductImage(TypedDict):
    sourceUrl: str
    order: int


class Product(TypedDict):
    externalId: str
    title: str | None
    description: str | None
    metadata: dict[str, Any] | None
    validForDays: int | None
    expiresAt: str | None
    lastUsedAt: str | None
    createdAt: str
    updatedAt: str
    images: list[ProductImage]
    category: NotRequired[ProductCategory]


class ProductList(TypedDict):
    items: list[Product]
    nextCursor: str | None
    hasMore: bool
    count: int


class ProductStats(TypedDict):
    totalGenerations: int
    completedGenerations: int
    failedGenerations: int
    avgGenerationTimeMs: int


# Requests (the 1.0/1.1 shape; the server accepts the later ones too, docs/api.md "Request versions") -------------


class ProductImageInput(TypedDict, total=False):
    """One product image: `url` (downloaded by the worker) or `fileKey` (a multipart part of the same call)."""

    url: str
    fileKey: str


class _ProductFields(TypedDict, total=False):
    title: str | None
    description: str | None
    images: list[ProductImageInput]
    imageUrls: list[str]
    metadata: dict[str, Any] | None
    validForDays: int | None
    category: ProductCategory


class ProductItem(_ProductFields, total=False):
    """The `product` of a try-on: only `externalId` (reference), `externalId` and fields (inline upsert), or no
    `externalId` (one-shot)."""

    externalId: str


class ProductUpsert(_ProductFields):
    """The body of `POST /products`: the same fields, `externalId` required."""

    externalId: str


class CustomerImage(TypedDict, total=False):
    """The shopper's photo: exactly one of an upload's `id`, a `url` the server downloads, or a `fileKey` part."""

    id: str
    url: str
    fileKey: str


class EngineOptions(TypedDict, total=False):
    seed: int
    quality: Quality
    garmentPhotoType: GarmentPhotoType


class TryOnRequest(TypedDict, total=False):
    product: ProductItem
    customer: CustomerImage
    customerId: str
    retentionDays: RetentionDays
    useWatermark: bool
    webhookUrl: str
    options: EngineOptions
