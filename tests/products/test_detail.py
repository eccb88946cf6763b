"""GET/DELETE /products/{externalId}, the retired PATCH, and routing of ids with any character but "/"."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from products.models import Product, ProductImage
from tests.products.conftest import PRODUCTS, multipart
from tests.storage_fixtures import all_storage_keys


def test_get_one_product(api, create):
    created = create(title="Red tee")
    for path in (f"{PRODUCTS}/shirt-42", f"{PRODUCTS}/shirt-42/"):
        response = api.get(path)
        assert response.status_code == 200
        assert response.json() == created


@pytest.mark.parametrize("external_id", ["été 2026", "stats", "x?y#z", "100%", "a+b", "a b\nc", "gid:shopify:1"])
def test_ids_with_any_character_but_slash_round_trip_url_encoded(api, create, external_id):
    create(external_id)
    path = f"{PRODUCTS}/{quote(external_id, safe='')}"
    assert api.get(path).json()["externalId"] == external_id
    assert api.delete(path).status_code == 204
    assert Product.objects.count() == 0


def test_unknown_product(api):
    response = api.get(f"{PRODUCTS}/nope")
    assert response.status_code == 404
    assert response.json() == {"code": "PRODUCT_NOT_FOUND", "message": "Product 'nope' not found.", "status": 404}


def test_delete(api, create, django_capture_on_commit_callbacks):
    create()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"{PRODUCTS}/shirt-42/")
    assert response.status_code == 204
    assert response.content == b""
    assert (Product.objects.count(), ProductImage.objects.count()) == (0, 0)
    assert api.get(f"{PRODUCTS}/shirt-42").status_code == 404
    response = api.delete(f"{PRODUCTS}/shirt-42")
    assert (response.status_code, response.json()["code"]) == (404, "PRODUCT_NOT_FOUND")


def test_delete_removes_stored_images(api, jpeg, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(PRODUCTS, data=multipart({"externalId": "p1", "images": [{"fileKey": "f"}]}, f=jpeg))
    ProductImage.objects.update(cached_key=None)
    assert len(all_storage_keys()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{PRODUCTS}/p1").status_code == 204
    assert all_storage_keys() == []


@pytest.mark.parametrize("method", ["patch", "put"])
def test_retired_methods(api, create, method):
    create()
    response = getattr(api, method)(f"{PRODUCTS}/shirt-42", data={"title": "x"}, content_type="application/json")
    assert response.status_code == 405
    assert response.json() == {
        "code": "METHOD_NOT_ALLOWED",
        "message": "This method is not allowed on this route.",
        "status": 405,
    }
    assert Product.objects.get().title is None


def test_wrong_methods_on_the_collection_and_stats(api, create):
    create()
    assert api.put(PRODUCTS, data={}, content_type="application/json").json()["code"] == "METHOD_NOT_ALLOWED"
    assert api.delete(PRODUCTS).json()["code"] == "METHOD_NOT_ALLOWED"
    assert api.post_json(f"{PRODUCTS}/shirt-42/stats", {}).json()["code"] == "METHOD_NOT_ALLOWED"
    assert api.post_json(f"{PRODUCTS}/shirt-42", {}).json()["code"] == "METHOD_NOT_ALLOWED"


def test_missing_and_invalid_keys(anon, create):
    create()
    assert anon.get(f"{PRODUCTS}/shirt-42").json()["code"] == "MISSING_API_KEY"
    anon.api_key = "nope"
    assert anon.get(f"{PRODUCTS}/shirt-42").json()["code"] == "INVALID_API_KEY"
    assert anon.delete(f"{PRODUCTS}/shirt-42").status_code == 401
    assert Product.objects.count() == 1
