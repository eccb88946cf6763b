"""One multipart part named by several `fileKey` entries is read whole by each of them."""

import io
import json

from generations.models import Generation
from products.models import Product
from tests.images import jpeg_bytes

TRYON = "/tryon/v1/try-on"


def _part(name: str) -> io.BytesIO:
    part = io.BytesIO(jpeg_bytes(width=600, height=800))
    part.name = name
    return part


def test_same_file_key_for_product_and_customer(api, account):
    data = {
        "product": {"externalId": "same-part", "title": "Tee", "images": [{"fileKey": "photo"}]},
        "customer": {"fileKey": "photo"},
    }
    response = api.post(TRYON, {"data": json.dumps(data), "photo": _part("photo.jpg")})
    assert response.status_code == 202, response.content
    generation = Generation.objects.get(id=response.json()["generationId"])
    assert generation.customer_image.source == "file"
    assert len(generation.product_snapshot["images"]) == 1
    account.refresh_from_db()
    assert account.credit_balance == 9


def test_same_file_key_twice_in_one_product(api):
    data = {"externalId": "twice", "title": "Tee", "images": [{"fileKey": "photo"}, {"fileKey": "photo"}]}
    response = api.post("/tryon/v1/products", {"data": json.dumps(data), "photo": _part("photo.jpg")})
    assert response.status_code == 201, response.content
    assert len(response.json()["images"]) >= 1
    assert Product.objects.filter(external_id="twice").count() == 1
