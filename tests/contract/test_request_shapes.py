"""Every offending field of a body is reported in one answer, under the path the client sent it: the shape
normaliser keeps each revision's own names (docs/compatibility.md), and nothing is written or charged."""

from __future__ import annotations

import io

from accounts.models import Account
from customers.models import CustomerImage
from customers.serializers import ImageUploadSerializer
from generations.models import Generation
from generations.serializers import TryOnRequestSerializer
from products.models import Product
from products.serializers import ProductItemSerializer
from tests.images import jpeg_bytes

TRYON = "/tryon/v1/try-on"


def _balance(account) -> int:
    return Account.objects.get(pk=account.pk).credit_balance


def test_a_1_4_body_reports_every_field_under_its_1_4_name(api, account):
    response = api.post_json(
        TRYON,
        {
            "products": [
                {
                    "externalId": "tee",
                    "title": "Tee",
                    "images": [{"source": {"url": "ftp://cdn.example.com/a.jpg"}}],
                    "validForDays": 0,
                }
            ],
            "person": {"image": {"source": {"url": "https://cdn.example.com/p.jpg"}}},
            "externalUserId": "",
            "output": {"watermark": "maybe", "keepForDays": 2},
            "webhookUrl": 5,
            "options": {"seed": -1},
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert sorted(detail["path"] for detail in body["details"]) == [
        "externalUserId",
        "options.seed",
        "output.keepForDays",
        "output.watermark",
        "products.0.images.0.source.url",
        "products.0.validForDays",
        "webhookUrl",
    ]
    assert (Generation.objects.count(), Product.objects.count(), _balance(account)) == (0, 0, 10)


def test_a_1_1_body_reports_the_same_fields_under_its_own_names(api, account):
    response = api.post_json(
        TRYON,
        {
            "product": {"externalId": "tee", "title": "Tee", "imageUrls": ["nope"], "validForDays": 400},
            "customer": {"url": "https://cdn.example.com/p.jpg"},
            "customerId": "",
            "useWatermark": "maybe",
            "retentionDays": 2,
        },
    )
    assert response.status_code == 400
    assert sorted(detail["path"] for detail in response.json()["details"]) == [
        "customerId",
        "product.imageUrls.0",
        "product.validForDays",
        "retentionDays",
        "useWatermark",
    ]
    assert (Generation.objects.count(), Product.objects.count(), _balance(account)) == (0, 0, 10)


def test_mixing_two_revisions_of_one_field_is_refused_whole(api, account):
    response = api.post_json(
        TRYON,
        {
            "product": {"externalId": "tee"},
            "customer": {"url": "https://cdn.example.com/p.jpg"},
            "retentionDays": 3,
            "output": {"keepForDays": 3},
        },
    )
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"path": "output.keepForDays", "message": "send retentionDays or output.keepForDays, not both"}
    ]
    assert Generation.objects.count() == 0


def test_an_upload_reports_every_form_field_in_one_answer(api, account):
    photo = io.BytesIO(jpeg_bytes(width=600, height=750))
    photo.name = "me.jpg"
    response = api.post(
        "/tryon/v1/images/upload",
        {"file": photo, "crop": "sometimes", "externalUserId": "x" * 256, "keepForDays": "5"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert [detail["path"] for detail in body["details"]] == ["crop", "externalUserId", "keepForDays"]
    assert CustomerImage.objects.count() == 0


# The request serializers are what the OpenAPI document is generated from; the parsers are what the server runs.
# These tests keep them one definition: every documented field is one the parser reads and checks.
def _paths(response) -> set[str]:
    return {detail["path"] for detail in response.json().get("details", [])}


def test_every_documented_product_item_field_is_checked_by_the_parser(api, account):
    fields = list(ProductItemSerializer().fields)
    assert fields == [
        "externalId",
        "title",
        "description",
        "images",
        "imageUrls",
        "metadata",
        "validForDays",
        "category",
    ]
    for field in fields:
        bad = [1] if field == "metadata" else {"not": "valid"}
        response = api.post_json("/tryon/v1/products", {"externalId": "tee", field: bad})
        assert response.status_code == 400, field
        assert field in _paths(response), (field, response.json())
    assert Product.objects.count() == 0


def test_every_documented_try_on_field_is_checked_by_the_parser(api, account):
    fields = list(TryOnRequestSerializer().fields)
    assert len(fields) == 11
    base = {"product": {"externalId": "tee"}, "customer": {"id": "img_x"}}
    for field in fields:
        bad = "not-a-setting" if field in ("retentionDays", "useWatermark") else 5
        response = api.post_json(TRYON, {**base, field: bad})
        assert response.status_code == 400, field
        assert field in _paths(response), (field, response.json())
    assert (Generation.objects.count(), _balance(account)) == (0, 10)


def test_every_documented_upload_field_is_checked_by_the_parser(api, account):
    fields = list(ImageUploadSerializer().fields)
    assert fields == ["file", "crop", "customerId", "externalUserId", "retentionDays", "keepForDays"]
    bad = {"crop": "sometimes", "customerId": "x" * 256, "retentionDays": "5"}
    bad.update(externalUserId=bad["customerId"], keepForDays=bad["retentionDays"])
    for field in fields[1:]:
        photo = io.BytesIO(jpeg_bytes(width=600, height=750))
        photo.name = "me.jpg"
        response = api.post("/tryon/v1/images/upload", {"file": photo, field: bad[field]})
        assert response.status_code == 400, field
        assert _paths(response) == {field}, (field, response.json())
    # `file` is the photo part itself: without it the answer is its own code, whatever else was sent.
    response = api.post("/tryon/v1/images/upload", {"file": "not-a-part", **bad})
    assert (response.json()["code"], _paths(response)) == ("FILE_REQUIRED", {"file"})
    assert CustomerImage.objects.count() == 0
