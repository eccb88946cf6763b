"""The one parser of try-on request bodies.

Every accepted shape (1.0/1.1 `product` + `customer`, 1.3 `source` objects, 1.4 `products[]` + `person.image.source`
+ `externalUserId` + `output`, deprecated `imageUrls`) maps onto one `TryOnInput`. A body that mixes generations of
the shape is refused with VALIDATION_FAILED. Product items are parsed later by the catalog's own parser; this
module only locates the item and remembers its path for error details."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.api.fields import parse_bool, parse_customer_id, parse_retention_days

# Pairs that belong to different generations of the request shape: sending both is ambiguous.
_MIXED = (
    ("product", "products"),
    ("customer", "person"),
    ("customerId", "externalUserId"),
)


class CustomerImageKind(enum.StrEnum):
    ID = "id"
    URL = "url"
    FILE = "fileKey"


@dataclass(frozen=True)
class CustomerImageRef:
    kind: CustomerImageKind
    value: str
    path: str


@dataclass(frozen=True)
class TryOnInput:
    product_item: dict
    product_path: str
    customer_image: CustomerImageRef
    customer_id: str
    retention_days: int | None
    use_watermark: bool
    webhook_url: str


def tryon_input_parse(*, data: dict) -> TryOnInput:
    for old, new in _MIXED:
        if old in data and new in data:
            raise validation_error(
                [ErrorDetail(path=new, message=f"'{old}' and '{new}' belong to different versions of the request; "
                                               "send one of them")]
            )
    output = data.get("output")
    if output is not None and not isinstance(output, dict):
        raise validation_error([ErrorDetail(path="output", message="must be an object")])
    output = output or {}
    if "retentionDays" in data and "keepForDays" in output:
        raise validation_error([ErrorDetail(path="output.keepForDays", message="send retentionDays or "
                                                                               "output.keepForDays, not both")])
    if "useWatermark" in data and "watermark" in output:
        raise validation_error([ErrorDetail(path="output.watermark", message="send useWatermark or "
                                                                             "output.watermark, not both")])

    product_item, product_path = _product_item(data=data)
    customer_image = _customer_image(data=data)
    customer_key = "customerId" if "customerId" in data else "externalUserId"
    if "keepForDays" in output:
        retention = parse_retention_days(value=output.get("keepForDays"), path="output.keepForDays")
    else:
        retention = parse_retention_days(value=data.get("retentionDays"), path="retentionDays")
    if "watermark" in output:
        use_watermark = parse_bool(value=output.get("watermark"), path="output.watermark", default=True)
    else:
        use_watermark = parse_bool(value=data.get("useWatermark"), path="useWatermark", default=True)
    webhook_url = data.get("webhookUrl") or ""
    if not isinstance(webhook_url, str) or len(webhook_url) > 2048:
        raise validation_error([ErrorDetail(path="webhookUrl", message="must be a URL of at most 2048 characters")])
    return TryOnInput(
        product_item=product_item,
        product_path=product_path,
        customer_image=customer_image,
        customer_id=parse_customer_id(value=data.get(customer_key), path=customer_key),
        retention_days=retention,
        use_watermark=use_watermark,
        webhook_url=webhook_url,
    )


def _product_item(*, data: dict) -> tuple[dict, str]:
    if "products" in data:
        products = data["products"]
        if not isinstance(products, list) or len(products) != 1:
            raise validation_error([ErrorDetail(path="products", message="must be a list of exactly one product")])
        item, path = products[0], "products.0"
    elif "product" in data:
        item, path = data["product"], "product"
    else:
        raise validation_error([ErrorDetail(path="product", message="is required")])
    if not isinstance(item, dict):
        raise validation_error([ErrorDetail(path=path, message="must be an object")])
    return item, path


def _customer_image(*, data: dict) -> CustomerImageRef:
    if "person" in data:
        person = data["person"]
        if not isinstance(person, dict):
            raise validation_error([ErrorDetail(path="person", message="must be an object")])
        image = person.get("image")
        if image is None:
            raise _required()
        if not isinstance(image, dict):
            raise validation_error([ErrorDetail(path="person.image", message="must be an object")])
        source, path = image.get("source"), "person.image.source"
    else:
        customer = data.get("customer")
        if customer is None:
            raise _required()
        if not isinstance(customer, dict):
            raise validation_error([ErrorDetail(path="customer", message="must be an object")])
        if "source" in customer:
            source, path = customer["source"], "customer.source"
        else:
            source, path = customer, "customer"
    if source is None:
        raise _required()
    if not isinstance(source, dict):
        raise validation_error([ErrorDetail(path=path, message="must be an object")])
    present = [kind for kind in CustomerImageKind if source.get(kind.value) not in (None, "")]
    if not present:
        raise _required()
    if len(present) > 1:
        names = " and ".join(kind.value for kind in present)
        raise validation_error(
            [ErrorDetail(path=f"{path}.{kind.value}", message=f"only one of id, url, fileKey may be sent ({names})")
             for kind in present]
        )
    kind = present[0]
    value = source[kind.value]
    if not isinstance(value, str) or len(value) > 2048:
        raise validation_error([ErrorDetail(path=f"{path}.{kind.value}", message="must be a string")])
    if kind is CustomerImageKind.URL and not value.lower().startswith(("http://", "https://")):
        raise validation_error([ErrorDetail(path=f"{path}.url", message="must be an http(s) URL")])
    return CustomerImageRef(kind=kind, value=value, path=f"{path}.{kind.value}")


def _required() -> ApiError:
    return ApiError(ErrorCode.CUSTOMER_IMAGE_REQUIRED, "A customer image (id, url or fileKey) is required.")
