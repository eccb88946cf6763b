from __future__ import annotations

from typing import Literal

ProductImageErrorCode = Literal["PRODUCT_IMAGE_FETCH_FAILED", "PRODUCT_IMAGE_INVALID"]


class ProductImageUnavailable(Exception):
    """A product image could not be turned into usable bytes.

    `code` is the generation's asynchronous error code (docs/errors.md); `message` is safe to show to the API client
    (no URL, no address); `retryable` is True for transient download failures (timeouts, connection errors,
    5xx answers), where trying again later may succeed."""

    def __init__(self, *, code: ProductImageErrorCode, message: str, retryable: bool = False) -> None:
        self.code: ProductImageErrorCode = code
        self.message = message
        self.retryable = retryable
        super().__init__(message)
