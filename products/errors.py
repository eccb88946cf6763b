from __future__ import annotations

from tryon_project.api.errors import GenerationErrorCode

# The failure codes a product image can cause, members of the one catalogue.
PRODUCT_IMAGE_CODES = frozenset(
    {GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED, GenerationErrorCode.PRODUCT_IMAGE_INVALID}
)


class ProductImageUnavailable(Exception):
    """A product image could not be turned into usable bytes.

    `code` is the generation's asynchronous failure code (docs/errors.md), one of :data:`PRODUCT_IMAGE_CODES`;
    `message` is safe to show to the API client (no URL, no address); `retryable` is True for transient download
    failures (timeouts, connection errors, 5xx answers), where trying again later may succeed."""

    def __init__(self, *, code: GenerationErrorCode, message: str, retryable: bool = False) -> None:
        if code not in PRODUCT_IMAGE_CODES:
            raise ValueError(f"{code} is not a product image failure")
        self.code = code
        self.message = message
        self.retryable = retryable
        super().__init__(message)
