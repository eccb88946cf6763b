from __future__ import annotations

from typing import Literal

ProductImageErrorCode = Literal["PRODUCT_IMAGE_FETCH_FAILED", "PRODUCT_IMAGE_INVALID"]


class ProductImageUnavailable(Exception):
    """A product image could not be turned into usable bytes. `code` is the generation's async error code
    (spec §1.2); `message` is safe to show to the API client (no URL, no address)."""

    def __init__(self, *, code: ProductImageErrorCode, message: str) -> None:
        self.code: ProductImageErrorCode = code
        self.message = message
        super().__init__(message)
