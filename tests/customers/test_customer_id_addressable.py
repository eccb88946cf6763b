"""A customer id that `DELETE /customers/{customerId}` could not address is refused when it is first sent, so no
end user's data is stored under an id that erasure silently misses."""

from __future__ import annotations

import io
import json

import pytest

from customers.models import CustomerImage
from generations.models import Generation
from tests.images import jpeg_bytes

TRYON = "/tryon/v1/try-on"
UNADDRESSABLE = ["user-1/", "/user-1", "user//1", "a/b/", "//"]


def _upload(api, customer_id: str):
    buffer = io.BytesIO(jpeg_bytes(width=600, height=750))
    buffer.name = "me.jpg"
    return api.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false", "customerId": customer_id})


@pytest.mark.parametrize("customer_id", UNADDRESSABLE)
def test_upload_refuses_an_id_erasure_cannot_address(api, customer_id):
    response = _upload(api, customer_id)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["details"] == [{"path": "customerId", "message": "must not start or end with '/' or contain '//'"}]
    assert CustomerImage.objects.count() == 0


@pytest.mark.parametrize("customer_id", UNADDRESSABLE)
def test_tryon_refuses_an_id_erasure_cannot_address(api, account, customer_id):
    body = {
        "product": {"externalId": "tee", "title": "Tee", "images": [{"url": "https://cdn.example/tee.jpg"}]},
        "customer": {"url": "https://cdn.example/me.jpg"},
        "customerId": customer_id,
    }
    response = api.post(TRYON, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert {"path": "customerId", "message": "must not start or end with '/' or contain '//'"} in response.json()[
        "details"
    ]
    assert Generation.objects.count() == 0
    account.refresh_from_db()
    assert account.credit_balance == 10


def test_an_id_with_inner_slashes_is_kept_and_erased(api):
    response = _upload(api, "shop/user-1")
    assert response.status_code == 201, response.content
    image_id = response.json()["imageId"]
    assert api.delete("/tryon/v1/customers/shop/user-1").status_code == 204
    assert not CustomerImage.objects.filter(id=image_id).exists()
