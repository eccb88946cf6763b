"""The typed input of a try-on: what `generation_create` accepts, whoever built it (the API's request parser, the
dashboard). Plain data: no HTTP object, no upload handle, only values and bytes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from products.inputs import ProductInput


class CustomerImageKind(enum.StrEnum):
    ID = "id"
    URL = "url"
    FILE = "fileKey"


@dataclass(frozen=True)
class CustomerImageRef:
    """Where the person image comes from.

    - ``ID``: ``value`` is the `imageId` of an earlier upload;
    - ``URL``: ``value`` is an http(s) URL, downloaded at acceptance through the safe fetcher;
    - ``FILE``: ``data`` holds the raw bytes of the file (``value`` is the name the client gave the part).

    ``path`` is where the reference sits in the request body, for error `details` ("customer.url", …)."""

    kind: CustomerImageKind
    value: str
    path: str
    data: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TryOnInput:
    product: ProductInput
    customer_image: CustomerImageRef
    customer_id: str = ""
    retention_days: int | None = None
    use_watermark: bool = True
    webhook_url: str = ""
    # [ext] per-call engine options as validated by engine_options_parse ({} when the call sets none).
    engine_options: dict[str, object] = field(default_factory=dict)
