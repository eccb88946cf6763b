"""The one catalogue of API error codes and the exception that carries them.

Every error body the API returns is built from an :class:`ApiError`; the exception handler and the
middleware translate everything else (DRF exceptions, Django 404/405/413, crashes) into one.
`docs/errors.md` is generated from :class:`ErrorCode` (``python manage.py errors_doc``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ErrorCode(enum.Enum):
    """Synchronous error codes: (HTTP status, cause). The order is the order of docs/errors.md."""

    VALIDATION_FAILED = (400, "The request does not match the schema; `details` lists each offending field.")
    MALFORMED_REQUEST = (400, "The body is not parseable JSON or multipart, or `data` is not a JSON object.")
    EXTERNAL_ID_REQUIRED = (400, "`POST /products` without `externalId`.")
    PRODUCT_IMAGES_REQUIRED = (400, "A call that creates a product (upsert, inline, one-shot) has no image.")
    CUSTOMER_IMAGE_REQUIRED = (400, "`POST /try-on` without a customer/person image.")
    FILE_REQUIRED = (400, "`POST /images/upload` without a `file` part.")
    MULTIPART_FILE_NOT_FOUND = (400, "A `fileKey` names no form part.")
    INVALID_IMAGE_INPUT = (400, "An `images[]` entry has neither `url` nor `fileKey`.")
    INVALID_IMAGE = (
        400,
        "The bytes are not a decodable JPEG/PNG/WebP/HEIC, are smaller than 64 px a side, "
        "or exceed the pixel limit (decompression bomb).",
    )
    CUSTOMER_IMAGE_FETCH_FAILED = (
        400,
        "The server could not download `customer.url` (unreachable, non-2xx, timeout, too large, "
        "not an image, or a blocked address).",
    )
    MISSING_API_KEY = (401, "No `x-api-key` header.")
    INVALID_API_KEY = (401, "The key is unknown or revoked, or its account is inactive.")
    INSUFFICIENT_CREDITS = (402, "No credit left for a try-on.")
    FORBIDDEN = (403, "The generation id belongs to another account.")
    PRODUCT_NOT_FOUND = (404, "Unknown or expired product (reference mode, get, stats, delete).")
    GENERATION_NOT_FOUND = (404, "Unknown generation id.")
    IMAGE_NOT_FOUND = (404, "`customer.id` is unknown, expired, or of another account.")
    NOT_FOUND = (404, "No such route.")
    METHOD_NOT_ALLOWED = (405, "Wrong method on a known route.")
    IDEMPOTENCY_KEY_IN_USE = (409, "[ext] The same `Idempotency-Key` is still being processed; retry later.")
    PAYLOAD_TOO_LARGE = (
        413,
        "A file over the file size limit (10 MB), a request over the total limit, or a request whose images decode "
        "to more pixels together than the per-request budget (100 megapixels).",
    )
    UNSUPPORTED_MEDIA_TYPE = (415, "The request `Content-Type` is not accepted by the route.")
    IDEMPOTENCY_KEY_REUSED = (422, "[ext] The same `Idempotency-Key` was sent with a different body.")
    RATE_LIMITED = (429, "Over the account's rate limit or its concurrent URL downloads; wait `Retry-After` seconds.")
    INTERNAL_ERROR = (500, "Anything unexpected (logged with the request id; no details leak).")
    SERVICE_UNAVAILABLE = (
        503,
        "The database, broker or storage is unreachable, or the server is decoding as many images as it allows at "
        "once; retry after `Retry-After` seconds.",
    )

    @property
    def http_status(self) -> int:
        return self.value[0]

    @property
    def cause(self) -> str:
        return self.value[1]


class GenerationErrorCode(enum.Enum):
    """Asynchronous failure codes found in `errorCode` of a FAILED generation."""

    PRODUCT_IMAGE_FETCH_FAILED = "A product image URL could not be downloaded."
    PRODUCT_IMAGE_INVALID = "A product image is not a usable garment photo."
    CUSTOMER_IMAGE_INVALID = "The customer image could not be used."
    PERSON_NOT_DETECTED = "No person was found in the customer image."
    UNSUPPORTED_PRODUCT = "The engine cannot dress this kind of item (shoes, eyewear, bags, hats…)."
    CONTENT_REJECTED = "A hosted engine refused the content."
    ENGINE_ERROR = "The try-on engine failed."
    PERSON_POSE_UNSUPPORTED = (
        "The engine cannot dress the person as photographed (not standing, not facing the camera, arms across the "
        "body, the body parts the garment needs not in the photo, clothes covering far more of the body than "
        "the garment does, an own dress longer than the new one, or anything but a top on a photo whose top is "
        "masked out)."
    )
    PRODUCT_PHOTO_UNSUPPORTED = (
        "The engine cannot use this product photo (the garment cannot be cut out cleanly, its sleeves hang against "
        "its body, or a model wears it)."
    )
    ENGINE_QUOTA_EXCEEDED = "The hosted engine's daily or zero quota is spent; it resets on the provider's side."
    GENERATION_TIMEOUT = "The generation did not finish in time."
    CUSTOMER_DATA_DELETED = "The end user's data was erased while the generation was in flight."

    @property
    def cause(self) -> str:
        return self.value


@dataclass(frozen=True)
class ErrorDetail:
    path: str
    message: str


@dataclass
class ApiError(Exception):
    """An error that becomes exactly one error body (docs/errors.md)."""

    code: ErrorCode
    message: str = ""
    details: list[ErrorDetail] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.message:
            self.message = self.code.cause
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return self.code.http_status

    def body(self) -> dict:
        body: dict = {"code": self.code.name, "message": self.message, "status": self.http_status}
        if self.details:
            body["details"] = [{"path": d.path, "message": d.message} for d in self.details]
        return body


def validation_error(details: list[ErrorDetail], message: str = "Request validation failed.") -> ApiError:
    return ApiError(ErrorCode.VALIDATION_FAILED, message, details=details)
