"""The three product modes (docs/products.md) through the one upsert service, and the shared item parser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from products.inputs import UNSET, ImageInput, ProductInput
from products.models import Product, ProductImage, ProductKind
from products.request_parser import product_input_parse
from products.services import product_resolve_for_tryon, product_upsert
from tests.products.conftest import PRODUCTS
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.api.multipart import ParsedBody

T0 = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)
URL = "https://cdn.example/front.jpg"


def _item(**fields) -> ProductInput:
    return ProductInput(**fields)


def _parse(item: dict, prefix: str = "product", require: bool = False) -> ProductInput:
    return product_input_parse(item=item, files=ParsedBody(data=item), path_prefix=prefix, require_external_id=require)


@time_machine.travel(T0, tick=False)
def test_inline_create_lives_15_days_and_is_listed(api, account):
    product, created = product_upsert(
        account=account, external_id="shirt-42", fields=_item(title="Tee", images=(ImageInput(url=URL),)), mode="inline"
    )
    assert created is True
    assert (product.kind, product.valid_for_days, product.expires_at) == ("inline", 15, T0 + timedelta(days=15))
    body = api.get(f"{PRODUCTS}/shirt-42").json()
    assert (body["validForDays"], body["expiresAt"], body["title"]) == (15, "2026-05-28T10:00:00.000Z", "Tee")
    assert [item["externalId"] for item in api.get(PRODUCTS).json()["items"]] == ["shirt-42"]


def test_inline_update_is_partial(account):
    product_upsert(
        account=account,
        external_id="p",
        fields=_item(title="a", description="d", images=(ImageInput(url=URL),)),
        mode="inline",
    )
    product, created = product_upsert(account=account, external_id="p", fields=_item(title="b"), mode="inline")
    assert created is False
    assert (product.title, product.description, product.valid_for_days) == ("b", "d", 15)
    assert [image.source_url for image in product.images.all()] == [URL]


@pytest.mark.parametrize("valid_for_days", [None, 30, 200])
def test_inline_never_shortens_a_catalog_product(api, create, account, valid_for_days):
    create(validForDays=valid_for_days)
    before = Product.objects.get()
    product, created = product_upsert(
        account=account,
        external_id="shirt-42",
        fields=_item(title="inline title", images=(ImageInput(url=URL),), valid_for_days=1),
        mode="inline",
    )
    assert created is False
    assert (product.kind, product.valid_for_days, product.expires_at) == ("catalog", valid_for_days, before.expires_at)
    assert product.title == "inline title"


def test_catalog_upsert_of_an_inline_product_makes_it_a_catalog_one(api, account):
    product_upsert(account=account, external_id="p", fields=_item(images=(ImageInput(url=URL),)), mode="inline")
    response = api.post_json(PRODUCTS, {"externalId": "p", "validForDays": None})
    assert response.status_code == 200
    assert (response.json()["validForDays"], response.json()["expiresAt"]) == (None, None)
    assert Product.objects.get().kind == ProductKind.CATALOG
    # From now on an inline upsert cannot shorten it.
    product, _ = product_upsert(account=account, external_id="p", fields=_item(title="x"), mode="inline")
    assert product.valid_for_days is None


def test_catalog_update_of_an_inline_product_without_valid_for_days_keeps_it(api, account):
    product_upsert(account=account, external_id="p", fields=_item(images=(ImageInput(url=URL),)), mode="inline")
    assert api.post_json(PRODUCTS, {"externalId": "p", "title": "t"}).json()["validForDays"] == 15


@time_machine.travel(T0, tick=False)
def test_one_shot_gets_a_server_id_and_7_days(api, account):
    first, created = product_upsert(
        account=account, external_id=None, fields=_item(images=(ImageInput(url=URL),)), mode="one_shot"
    )
    second, _ = product_upsert(
        account=account, external_id=None, fields=_item(images=(ImageInput(url=URL),)), mode="one_shot"
    )
    assert created is True
    assert re.fullmatch(r"_anon_[A-Za-z0-9_-]{22}", first.external_id)  # 128 random bits
    assert first.external_id != second.external_id
    assert (first.kind, first.valid_for_days, first.expires_at) == ("one_shot", 7, T0 + timedelta(days=7))
    body = api.get(f"{PRODUCTS}/{first.external_id}").json()
    assert (body["externalId"], body["validForDays"]) == (first.external_id, 7)
    assert api.get(PRODUCTS).json() == {"items": [], "nextCursor": None, "hasMore": False, "count": 0}


@pytest.mark.parametrize("mode, external_id", [("one_shot", None), ("inline", "p"), ("catalog", "p")])
def test_creating_without_images(account, mode, external_id):
    with pytest.raises(ApiError) as caught:
        product_upsert(account=account, external_id=external_id, fields=_item(title="t"), mode=mode)
    assert caught.value.code is ErrorCode.PRODUCT_IMAGES_REQUIRED
    assert Product.objects.count() == 0


def test_programming_errors_are_not_api_errors(account):
    with pytest.raises(ValueError):
        product_upsert(account=account, external_id="x", fields=_item(), mode="one_shot")
    with pytest.raises(ValueError):
        product_upsert(account=account, external_id=None, fields=_item(), mode="inline")


def test_reusing_an_image_url_keeps_its_cached_copy(account):
    product, _ = product_upsert(
        account=account,
        external_id="p",
        mode="inline",
        fields=_item(images=(ImageInput(url=URL), ImageInput(url="https://x.example/2.jpg"))),
    )
    ProductImage.objects.filter(product=product, source_url=URL).update(cached_key="product-cache/k.jpg")
    product, _ = product_upsert(
        account=account,
        external_id="p",
        mode="inline",
        fields=_item(images=(ImageInput(url="https://x.example/3.jpg"), ImageInput(url=URL))),
    )
    images = list(product.images.all())
    assert [(image.source_url, image.order, image.cached_key) for image in images] == [
        ("https://x.example/3.jpg", 0, None),
        (URL, 1, "product-cache/k.jpg"),
    ]


# --- the shared parser, as /try-on calls it ------------------------------------------------------------------------


def test_parser_modes():
    assert _parse({"externalId": "p"}).try_on_mode == "reference"
    assert _parse({"externalId": "_anon_abc"}).try_on_mode == "reference"
    assert _parse({"externalId": "p", "title": "t"}).try_on_mode == "inline"
    assert _parse({"externalId": "p", "imageUrls": [URL]}).try_on_mode == "inline"
    assert _parse({"images": [{"url": URL}]}).try_on_mode == "one_shot"


def test_parser_keeps_unset_apart_from_null():
    parsed = _parse({"externalId": "p", "title": None, "images": [{"url": URL}]})
    assert parsed.title is None
    assert parsed.description is UNSET and parsed.metadata is UNSET and parsed.valid_for_days is UNSET
    assert parsed.images == (ImageInput(url=URL),)


@pytest.mark.parametrize(
    "item, prefix, code, path",
    [
        ({"externalId": "p", "images": [{"url": "ftp://x/y"}]}, "product", "VALIDATION_FAILED", "product.images.0.url"),
        ({"externalId": "p", "images": [{}]}, "products.0", "INVALID_IMAGE_INPUT", "products.0.images.0"),
        ({"externalId": "_anon_x", "title": "t"}, "product", "VALIDATION_FAILED", "product.externalId"),
        (
            {"externalId": "p", "images": [{"fileKey": "f"}]},
            "product",
            "MULTIPART_FILE_NOT_FOUND",
            "product.images.0.fileKey",
        ),
        ({"externalId": "p", "metadata": "x"}, "products.0", "VALIDATION_FAILED", "products.0.metadata"),
    ],
)
def test_parser_error_paths_start_with_the_prefix(item, prefix, code, path):
    with pytest.raises(ApiError) as caught:
        _parse(item, prefix)
    assert caught.value.code.name == code
    assert [d.path for d in caught.value.details] == [path]


def test_parser_external_id_required_only_when_asked():
    assert _parse({"images": [{"url": URL}]}).external_id is None
    with pytest.raises(ApiError) as caught:
        _parse({"images": [{"url": URL}]}, prefix="", require=True)
    assert caught.value.code is ErrorCode.EXTERNAL_ID_REQUIRED
    with pytest.raises(ApiError) as caught:
        _parse({"externalId": "_anon_abc"}, prefix="", require=True)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


def test_parser_refuses_a_non_object_item():
    with pytest.raises(ApiError) as caught:
        product_input_parse(item=["x"], files=ParsedBody(data={}), path_prefix="products.0", require_external_id=False)
    assert [(d.path, d.message) for d in caught.value.details] == [("products.0", "must be an object")]


# --- /try-on's entry point -----------------------------------------------------------------------------------------


def test_resolve_for_tryon_by_mode(account, create):
    def resolve(item: dict, path: str = "product"):
        fields = product_input_parse(item=item, files=ParsedBody(data={}), path_prefix=path, require_external_id=False)
        return product_resolve_for_tryon(account=account, fields=fields)

    create(validForDays=None)
    assert resolve({"externalId": "shirt-42"}).kind == "catalog"
    with pytest.raises(ApiError) as caught:
        resolve({"externalId": "unknown"})
    assert caught.value.code is ErrorCode.PRODUCT_NOT_FOUND
    inline = resolve({"externalId": "new-1", "title": "t", "imageUrls": [URL]}, path="products.0")
    assert (inline.kind, inline.valid_for_days, inline.title) == ("inline", 15, "t")
    one_shot = resolve({"title": "t", "images": [{"url": URL}]})
    assert one_shot.kind == "one_shot" and one_shot.external_id.startswith("_anon_")
    assert resolve({"externalId": one_shot.external_id}).pk == one_shot.pk
    with pytest.raises(ApiError) as caught:
        resolve({"images": [{}]}, path="products.0")
    assert (caught.value.code, caught.value.details[0].path) == (ErrorCode.INVALID_IMAGE_INPUT, "products.0.images.0")
