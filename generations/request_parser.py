"""The one parser of try-on request bodies: a shape normaliser (`tryon_shape_normalise`), then validation of each
located value by the shared field parsers, gathered by the one `DetailCollector`.

Every accepted shape (1.0/1.1 `product` + `customer`, 1.3 `source` objects, 1.4 `products[]` + `person.image.source`
+ `externalUserId` + `output`, deprecated `imageUrls`) maps onto one `TryOnInput`. A body that mixes generations of
the shape is refused with VALIDATION_FAILED. The product item is validated by the catalog's own parser (the
same one `POST /products` uses), and every field's error is reported in one VALIDATION_FAILED answer."""

from __future__ import annotations

from dataclasses import dataclass, replace

from generations.engine_options import engine_options_parse
from generations.inputs import CustomerImageKind, CustomerImageRef, TryOnInput
from products.request_parser import product_input_parse
from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.api.fields import (
    CUSTOMER_ID_NAMES,
    DetailCollector,
    alias_key,
    parse_bool,
    parse_customer_id,
    parse_retention_days,
)
from tryon_project.api.multipart import ParsedBody

# Pairs that belong to different generations of the request shape: sending both is ambiguous.
_MIXED = (
    ("product", "products"),
    ("customer", "person"),
    ("customerId", "externalUserId"),
)


@dataclass(frozen=True)
class Sent:
    """A value as the client sent it (None when absent) and the path it sent it under, for error `details`."""

    value: object
    path: str


@dataclass(frozen=True)
class TryOnShape:
    """A try-on body with its shape resolved: each scalar setting found under whichever of its names the client's
    revision uses. The product item and the customer image are located by `_product_item` / `_customer_image`."""

    customer_id: Sent
    retention_days: Sent
    watermark: Sent
    webhook_url: Sent
    options: Sent


def tryon_shape_normalise(*, data: dict) -> TryOnShape:
    """Resolve the revision-dependent names of a body (1.0-1.3 top-level `customerId`, `retentionDays`,
    `useWatermark`; 1.4 `externalUserId`, `output.keepForDays`, `output.watermark`). A body mixing two revisions of
    one field is refused here, at once, since its meaning would be a guess."""
    for old, new in _MIXED:
        if old in data and new in data:
            raise validation_error(
                [
                    ErrorDetail(
                        path=new,
                        message=f"'{old}' and '{new}' belong to different versions of the request; send one of them",
                    )
                ]
            )
    output = data.get("output")
    if output is not None and not isinstance(output, dict):
        raise validation_error([ErrorDetail(path="output", message="must be an object")])
    output = output or {}
    if "retentionDays" in data and "keepForDays" in output:
        raise validation_error(
            [ErrorDetail(path="output.keepForDays", message="send retentionDays or output.keepForDays, not both")]
        )
    if "useWatermark" in data and "watermark" in output:
        raise validation_error(
            [ErrorDetail(path="output.watermark", message="send useWatermark or output.watermark, not both")]
        )
    customer_key = alias_key(data=data, names=CUSTOMER_ID_NAMES)
    return TryOnShape(
        customer_id=Sent(data.get(customer_key), customer_key),
        retention_days=(
            Sent(output.get("keepForDays"), "output.keepForDays")
            if "keepForDays" in output
            else Sent(data.get("retentionDays"), "retentionDays")
        ),
        watermark=(
            Sent(output.get("watermark"), "output.watermark")
            if "watermark" in output
            else Sent(data.get("useWatermark"), "useWatermark")
        ),
        webhook_url=Sent(data.get("webhookUrl"), "webhookUrl"),
        options=Sent(data.get("options"), "options"),
    )


def tryon_input_parse(*, data: dict, body: ParsedBody) -> TryOnInput:
    shape = tryon_shape_normalise(data=data)
    collected = DetailCollector()
    customer_id = collected.collect(parse_customer_id, value=shape.customer_id.value, path=shape.customer_id.path)
    retention = collected.collect(
        parse_retention_days, value=shape.retention_days.value, path=shape.retention_days.path
    )
    use_watermark = collected.collect(parse_bool, value=shape.watermark.value, path=shape.watermark.path, default=True)
    webhook_url = shape.webhook_url.value or ""
    if not isinstance(webhook_url, str) or len(webhook_url) > 2048:
        collected.add(shape.webhook_url.path, message="must be a URL of at most 2048 characters")
    # [ext] per-call engine options (seed, quality, garmentPhotoType): their own parser, see engine_options.py.
    engine_options = collected.collect(engine_options_parse, value=shape.options.value, path=shape.options.path)
    located = collected.collect(_product_item, data=data)
    missing_customer: ApiError | None = None
    try:
        customer_image = collected.collect(_customer_image, data=data)
    except ApiError as exc:  # CUSTOMER_IMAGE_REQUIRED: reported after any field error
        missing_customer, customer_image = exc, None
    product = None
    if located is not None:
        item, path = located
        try:
            product = collected.collect(
                product_input_parse, item=item, files=body, path_prefix=path, require_external_id=False
            )
        except ApiError:
            # A refused image or a missing file part: field errors, if any, are the first answer.
            if not collected.details:
                raise
    collected.raise_if_any()
    if missing_customer is not None:
        raise missing_customer
    if customer_image.kind is CustomerImageKind.FILE:
        # The part becomes bytes here, at the HTTP edge: the service never sees an upload handle. Its size is
        # checked where the bytes are normalised, as for every image.
        upload = body.file(key=customer_image.value, path=customer_image.path)
        customer_image = replace(customer_image, data=upload.read())
    return TryOnInput(
        product=product,
        customer_image=customer_image,
        customer_id=customer_id,
        retention_days=retention,
        use_watermark=use_watermark,
        webhook_url=webhook_url,
        engine_options=engine_options or {},
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
            [
                ErrorDetail(path=f"{path}.{kind.value}", message=f"only one of id, url, fileKey may be sent ({names})")
                for kind in present
            ]
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
