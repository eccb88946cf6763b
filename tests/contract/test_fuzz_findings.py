"""Regression tests for what contract fuzzing found: inputs that used to answer 500 or a route miss."""

from __future__ import annotations

import io
import json

import pytest

from products.models import Product
from tests.images import jpeg_bytes

PRODUCT = {"externalId": "tee", "title": "Tee", "images": [{"url": "https://cdn.example/tee.jpg"}]}
UNSTORABLE = "must not contain NUL characters or unpaired surrogates"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({**PRODUCT, "externalId": "a\x00b"}, "externalId"),
        ({**PRODUCT, "title": "\ud800"}, "title"),
        ({**PRODUCT, "metadata": {"k": ["ok", "\x00"]}}, "metadata.k.1"),
    ],
)
def test_product_body_with_nul_or_lone_surrogate_is_a_validation_error(api, body, path):
    response = api.post_json("/tryon/v1/products", body)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert response.json()["details"] == [{"path": path, "message": UNSTORABLE}]
    assert Product.objects.count() == 0


def test_tryon_multipart_data_with_nul_is_a_validation_error(api, account):
    data = json.dumps({"product": {**PRODUCT, "title": "t\x00"}, "customer": {"id": "img_x"}})
    response = api.post("/tryon/v1/try-on", {"data": data})
    assert response.status_code == 400
    assert response.json()["details"] == [{"path": "product.title", "message": UNSTORABLE}]
    account.refresh_from_db()
    assert account.credit_balance == 10


def test_upload_customer_id_with_nul_is_a_validation_error(api):
    photo = io.BytesIO(jpeg_bytes(width=600, height=750))
    photo.name = "me.jpg"
    response = api.post("/tryon/v1/images/upload", {"file": photo, "customerId": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["details"] == [{"path": "customerId", "message": UNSTORABLE}]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/tryon/v1/products/a%00b"),
        ("delete", "/tryon/v1/products/a%00b"),
        ("get", "/tryon/v1/products/a%00b/stats"),
        ("get", "/tryon/v1/generations/gen_%00"),
        ("delete", "/tryon/v1/customers/a%00b"),
        ("get", "/tryon/v1/products?cursor=%00"),
    ],
)
def test_nul_in_url_is_malformed_not_a_crash(api, method, url):
    response = getattr(api, method)(url)
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_REQUEST"


def test_customer_id_with_a_line_break_reaches_the_erase_route(api):
    assert api.delete("/tryon/v1/customers/user%0A1").status_code == 204


def test_product_id_with_a_line_break_is_addressable(api):
    assert api.post_json("/tryon/v1/products", {**PRODUCT, "externalId": "line\nbreak"}).status_code == 201
    assert api.get("/tryon/v1/products/line%0Abreak").json()["externalId"] == "line\nbreak"
    assert api.get("/tryon/v1/products/line%0Abreak/stats").status_code == 200


def test_blank_cursor_is_the_first_page_as_the_schema_says(api):
    assert api.get("/tryon/v1/products?cursor=").status_code == 200
