"""A try-on body -> one `TryOnInput`: the shape normaliser (`tryon_shape_normalise`) rewrites every accepted shape
onto the canonical members of the one schema (`generations.serializers.TryOnRequestSerializer`), which validates
them once; every offending field is reported in one VALIDATION_FAILED answer, under the path the client sent it.

Accepted shapes: 1.0/1.1 `product` + `customer`, 1.3 `source` objects, 1.4 `products[]` + `person.image.source`
+ `externalUserId` + `output`, deprecated `imageUrls`; JSON or multipart `data` + file parts. A body that mixes
generations of the shape is refused with VALIDATION_FAILED."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from generations.inputs import CustomerImageKind, CustomerImageRef, TryOnInput
from generations.serializers import TryOnRequestSerializer
from products.request_parser import product_input_build, product_item_normalise
from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.api.multipart import ParsedBody
from tryon_project.api.request_schema import OBJECT_MESSAGE, REQUIRED_MESSAGE, path_sent, schema_validate

# Pairs that belong to different generations of the request shape: sending both is ambiguous.
_MIXED = (
    ("product", "products"),
    ("customer", "person"),
    ("customerId", "externalUserId"),
)
# Members taken over as they are; the others are located by revision below.
_AS_SENT = ("customerId", "retentionDays", "useWatermark", "webhookUrl")


@dataclass
class TryOnShape:
    """A body rewritten onto the schema's canonical members, where each canonical path came from (`paths`), the
    product item's own path map (`item_paths`), and the shape problems found on the way (`issues`)."""

    data: dict = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    item_paths: dict[str, str] = field(default_factory=dict)
    issues: list[ErrorDetail] = field(default_factory=list)


def tryon_shape_normalise(*, data: dict) -> TryOnShape:
    """Resolve the revision-dependent names of a body (1.0-1.3 `product`, `customer[.source]`, top-level
    `customerId`, `retentionDays`, `useWatermark`; 1.4 `products.0`, `person.image.source`, `externalUserId`,
    `output.keepForDays`, `output.watermark`). A body mixing two revisions of one field is refused here, at once,
    since its meaning would be a guess."""
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
        raise validation_error([ErrorDetail(path="output", message=OBJECT_MESSAGE)])
    output = output or {}
    for old, new in (("retentionDays", "keepForDays"), ("useWatermark", "watermark")):
        if old in data and new in output:
            raise validation_error([ErrorDetail(path=f"output.{new}", message=f"send {old} or output.{new}, not both")])
    shape = TryOnShape(data={key: data[key] for key in _AS_SENT if key in data})
    if data.get("options") is not None:
        shape.data["options"] = data["options"]
    for canonical, value, sent in (
        ("customerId", data.get("externalUserId"), "externalUserId" in data),
        ("retentionDays", output.get("keepForDays"), "keepForDays" in output),
        ("useWatermark", output.get("watermark"), "watermark" in output),
    ):
        if sent:
            shape.data[canonical] = value
            shape.paths[canonical] = {"customerId": "externalUserId"}.get(canonical) or _output_path(canonical)
    _product_locate(data=data, shape=shape)
    _customer_locate(data=data, shape=shape)
    return shape


def _output_path(canonical: str) -> str:
    return "output.keepForDays" if canonical == "retentionDays" else "output.watermark"


def _product_locate(*, data: dict, shape: TryOnShape) -> None:
    if "products" in data:
        products = data["products"]
        if not isinstance(products, list) or len(products) != 1:
            shape.issues.append(ErrorDetail(path="products", message="must be a list of exactly one product"))
            shape.paths["product"] = "products"
            return
        item, where = products[0], "products.0"
    elif "product" in data:
        item, where = data["product"], "product"
    else:
        # Not `required` in the schema: a 1.4 body names `products`, and the document must not demand `product`.
        shape.issues.append(ErrorDetail(path="product", message=REQUIRED_MESSAGE))
        return
    normalised = product_item_normalise(item=item, prefix=where)
    shape.data["product"] = normalised.data
    shape.item_paths = normalised.paths
    shape.paths.update({f"product.{key}" if key else "product": sent for key, sent in normalised.paths.items()})
    shape.issues.extend(normalised.issues)


def _customer_locate(*, data: dict, shape: TryOnShape) -> None:
    if "person" in data:
        person = data["person"]
        if not isinstance(person, dict):
            shape.issues.append(ErrorDetail(path="person", message=OBJECT_MESSAGE))
            return
        image = person.get("image")
        if image is not None and not isinstance(image, dict):
            shape.issues.append(ErrorDetail(path="person.image", message=OBJECT_MESSAGE))
            return
        source, where = (image or {}).get("source"), "person.image.source"
    else:
        customer = data.get("customer")
        if isinstance(customer, dict) and "source" in customer:
            source, where = customer["source"], "customer.source"
        else:
            source, where = customer, "customer"
    if source is not None:  # absent: CUSTOMER_IMAGE_REQUIRED once the fields are checked
        shape.data["customer"] = source
        shape.paths["customer"] = where


def tryon_input_parse(*, data: dict, body: ParsedBody) -> TryOnInput:
    shape = tryon_shape_normalise(data=data)
    values = schema_validate(schema=TryOnRequestSerializer(data=shape.data), paths=shape.paths, issues=shape.issues)
    # A refused image or a missing file part of the product, then a missing customer image: after field errors.
    product = product_input_build(values=values["product"], files=body, paths=shape.item_paths)
    customer = values.get("customer") or {}
    if not customer:
        raise ApiError(ErrorCode.CUSTOMER_IMAGE_REQUIRED, "A customer image (id, url or fileKey) is required.")
    (kind_name, value), *_ = customer.items()
    kind = CustomerImageKind(kind_name)
    customer_image = CustomerImageRef(
        kind=kind, value=value, path=path_sent(path=f"customer.{kind.value}", paths=shape.paths)
    )
    if kind is CustomerImageKind.FILE:
        # The part becomes bytes here, at the HTTP edge: the service never sees an upload handle. Its size is
        # checked where the bytes are normalised, as for every image.
        upload = body.file(key=customer_image.value, path=customer_image.path)
        customer_image = replace(customer_image, data=upload.read())
    return TryOnInput(
        product=product,
        customer_image=customer_image,
        customer_id=values.get("customerId", ""),
        retention_days=values.get("retentionDays"),
        use_watermark=values["useWatermark"],
        webhook_url=values.get("webhookUrl", ""),
        engine_options=values.get("options", {}),
    )
