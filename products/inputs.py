"""What a client sent for one product, validated: the shared input of `POST /products` and of the inline and
one-shot modes of `/try-on` (docs/products.md), built by `products.request_parser`. Plain data: omitted fields are
:data:`UNSET`, so a partial update can tell "not sent" from `null`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

METADATA_MAX_BYTES = 16 * 1024
VALID_FOR_DAYS_MIN, VALID_FOR_DAYS_MAX = 1, 365
TITLE_MAX_LENGTH = 1000
DESCRIPTION_MAX_LENGTH = 20_000
# Not in the public contract; bounds the work one request can ask for.
IMAGES_MAX = 20


class Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET


@dataclass(frozen=True)
class ImageInput:
    """One image entry: a URL (fetched later, by the worker) or uploaded bytes already normalised."""

    url: str | None = None
    data: bytes | None = field(default=None, repr=False)
    content_type: str | None = None


@dataclass(frozen=True)
class ProductInput:
    """A validated product item. Each field is UNSET when the client did not send it."""

    external_id: str | None = None
    title: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    images: tuple[ImageInput, ...] | Unset = UNSET
    metadata: dict | Unset | None = UNSET
    valid_for_days: int | Unset | None = UNSET
    category: str | Unset = UNSET

    @property
    def sends_fields(self) -> bool:
        """True when the item carries anything besides its id (an upsert rather than a reference)."""
        return any(
            value is not UNSET
            for value in (self.title, self.description, self.images, self.metadata, self.valid_for_days, self.category)
        )

    @property
    def try_on_mode(self) -> Literal["reference", "inline", "one_shot"]:
        """The `/try-on` product mode this item selects (docs/products.md)."""
        if self.external_id is None:
            return "one_shot"
        return "inline" if self.sends_fields else "reference"
