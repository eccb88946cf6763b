from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from products.models import Product, ProductImage
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys

PRODUCTS = "/tryon/v1/products"


def multipart(body: dict, **files: bytes) -> dict:
    """A multipart form: the JSON body in `data`, each keyword a file part."""
    form: dict = {"data": json.dumps(body)}
    for name, content in files.items():
        form[name] = SimpleUploadedFile(f"{name}.jpg", content, content_type="image/jpeg")
    return form


def state() -> tuple[int, int, list[str]]:
    """(products, product images, stored blobs): what a refused call must leave unchanged."""
    return Product.objects.count(), ProductImage.objects.count(), all_storage_keys()


@pytest.fixture
def jpeg() -> bytes:
    return jpeg_bytes(width=120, height=160)


@pytest.fixture
def create(api):
    """POST a catalog product and return its body; asserts the status."""

    def _create(external_id: str = "shirt-42", expect: int = 201, **fields) -> dict:
        body = {"externalId": external_id, "images": [{"url": "https://cdn.example/front.jpg"}], **fields}
        response = api.post_json(PRODUCTS, body)
        assert response.status_code == expect, response.content
        return response.json()

    return _create
