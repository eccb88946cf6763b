"""POST /products (JSON): creation, partial updates and every refusal, asserting nothing is written on a refusal."""

from __future__ import annotations

import json

import pytest
import time_machine

from products.models import Product, ProductKind
from tests.products.conftest import PRODUCTS, state

T0 = "2026-05-13T10:00:00.123456+00:00"
IMG = ["https://a.example/1.jpg"]


@time_machine.travel(T0, tick=False)
def test_create_returns_the_exact_product_object(api, account):
    response = api.post_json(
        PRODUCTS,
        {
            "externalId": "shirt-42",
            "title": "Red tee",
            "description": "Cotton",
            "metadata": {"sku": "R-42", "tags": ["summer"]},
            "images": [{"url": "https://cdn.example/front.jpg"}, {"url": "https://cdn.example/back.jpg"}],
        },
    )
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "externalId": "shirt-42",
        "title": "Red tee",
        "description": "Cotton",
        "metadata": {"sku": "R-42", "tags": ["summer"]},
        "validForDays": None,
        "expiresAt": None,
        "lastUsedAt": None,
        "createdAt": "2026-05-13T10:00:00.123Z",
        "updatedAt": "2026-05-13T10:00:00.123Z",
        "images": [
            {"sourceUrl": "https://cdn.example/front.jpg", "order": 0},
            {"sourceUrl": "https://cdn.example/back.jpg", "order": 1},
        ],
    }
    product = Product.objects.get(account=account, external_id="shirt-42")
    assert product.kind == ProductKind.CATALOG
    assert product.category == "auto"


def test_create_with_only_images_has_explicit_nulls(create):
    body = create("bare")
    assert body["title"] is None and body["description"] is None and body["metadata"] is None


def test_partial_update_changes_only_the_sent_fields(api, create):
    with time_machine.travel("2026-05-13T10:00:00Z", tick=False):
        create(title="Red tee", description="Cotton", metadata={"a": 1}, validForDays=30)
    with time_machine.travel("2026-05-14T08:30:00.5Z", tick=False):
        response = api.post_json(PRODUCTS, {"externalId": "shirt-42", "title": "Blue tee"})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "externalId": "shirt-42",
        "title": "Blue tee",
        "description": "Cotton",
        "metadata": {"a": 1},
        "validForDays": 30,
        "expiresAt": "2026-06-12T10:00:00.000Z",
        "lastUsedAt": None,
        "createdAt": "2026-05-13T10:00:00.000Z",
        "updatedAt": "2026-05-14T08:30:00.500Z",
        "images": [{"sourceUrl": "https://cdn.example/front.jpg", "order": 0}],
    }
    assert Product.objects.count() == 1


def test_update_images_replace_the_whole_list(api, create):
    create(images=[{"url": "https://a.example/1.jpg"}, {"url": "https://a.example/2.jpg"}])
    response = api.post_json(
        PRODUCTS,
        {"externalId": "shirt-42", "images": [{"url": "https://a.example/3.jpg"}, {"url": "https://a.example/1.jpg"}]},
    )
    assert response.status_code == 200
    assert response.json()["images"] == [
        {"sourceUrl": "https://a.example/3.jpg", "order": 0},
        {"sourceUrl": "https://a.example/1.jpg", "order": 1},
    ]


def test_null_clears_fields_and_valid_for_days_null_means_forever(api, create):
    create(title="t", description="d", metadata={"k": "v"}, validForDays=5)
    response = api.post_json(
        PRODUCTS, {"externalId": "shirt-42", "title": None, "description": None, "metadata": None, "validForDays": None}
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["title"], body["description"], body["metadata"]) == (None, None, None)
    assert (body["validForDays"], body["expiresAt"]) == (None, None)


def test_valid_for_days_omitted_on_update_is_unchanged(api, create):
    create(validForDays=9)
    body = api.post_json(PRODUCTS, {"externalId": "shirt-42", "description": "x"}).json()
    assert body["validForDays"] == 9


def test_image_urls_alias(api):
    response = api.post_json(
        PRODUCTS, {"externalId": "p1", "imageUrls": ["https://a.example/1.jpg", "http://b.example/2.png"]}
    )
    assert response.status_code == 201
    assert response.json()["images"] == [
        {"sourceUrl": "https://a.example/1.jpg", "order": 0},
        {"sourceUrl": "http://b.example/2.png", "order": 1},
    ]


def test_source_form_of_1_3(api):
    response = api.post_json(PRODUCTS, {"externalId": "p1", "images": [{"source": {"url": "https://a.example/1.jpg"}}]})
    assert response.status_code == 201
    assert response.json()["images"] == [{"sourceUrl": "https://a.example/1.jpg", "order": 0}]


def test_unknown_fields_are_ignored(api):
    response = api.post_json(PRODUCTS, {"externalId": "p1", "imageUrls": IMG, "colour": "red"})
    assert response.status_code == 201
    assert "colour" not in response.json()


def test_numeric_external_id_is_its_decimal_string(api):
    response = api.post_json(PRODUCTS, {"externalId": 123456, "imageUrls": IMG})
    assert response.status_code == 201
    assert response.json()["externalId"] == "123456"


def test_id_of_255_characters_and_any_characters_but_slash(api):
    long_id = "é\\ x?#%" + "a" * 248
    assert len(long_id) == 255
    response = api.post_json(PRODUCTS, {"externalId": long_id, "imageUrls": IMG})
    assert response.status_code == 201
    assert response.json()["externalId"] == long_id


def test_category_extension_is_shown_only_when_set(api, create):
    assert "category" not in create("auto-one")
    body = create("dress-1", category="dresses")
    assert body["category"] == "dresses"
    body = api.post_json(PRODUCTS, {"externalId": "dress-1", "category": "auto"}).json()
    assert "category" not in body
    assert Product.objects.get(external_id="dress-1").category == "auto"


def test_metadata_of_16_kb_is_accepted(api):
    metadata = {"x": "a" * (16 * 1024 - len('{"x":""}'))}
    assert len(json.dumps(metadata, separators=(",", ":"))) == 16 * 1024
    response = api.post_json(PRODUCTS, {"externalId": "p1", "imageUrls": IMG, "metadata": metadata})
    assert response.status_code == 201
    assert response.json()["metadata"] == metadata


# --- refusals ------------------------------------------------------------------------------------------------------


def _refused(api, body, status: int, code: str) -> dict:
    before = state()
    response = api.post_json(PRODUCTS, body)
    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["code"] == code and payload["status"] == status and payload["message"]
    assert state() == before
    return payload


@pytest.mark.parametrize("body", [{}, {"externalId": ""}, {"externalId": None}, {"externalId": "   "}])
def test_external_id_required(api, body):
    payload = _refused(api, {**body, "imageUrls": IMG}, 400, "EXTERNAL_ID_REQUIRED")
    assert payload["details"] == [{"path": "externalId", "message": "is required"}]


def test_anon_prefix_is_reserved(api):
    payload = _refused(api, {"externalId": "_anon_abc", "imageUrls": IMG}, 400, "VALIDATION_FAILED")
    assert [d["path"] for d in payload["details"]] == ["externalId"]
    # Even as a bare reference: POST /products always names a client id.
    _refused(api, {"externalId": "_anon_abc"}, 400, "VALIDATION_FAILED")


def test_id_of_256_characters_is_refused(api):
    payload = _refused(api, {"externalId": "a" * 256, "imageUrls": IMG}, 400, "VALIDATION_FAILED")
    assert [d["path"] for d in payload["details"]] == ["externalId"]


def test_external_id_of_wrong_type(api):
    payload = _refused(api, {"externalId": ["x"], "imageUrls": IMG}, 400, "VALIDATION_FAILED")
    assert payload["details"] == [{"path": "externalId", "message": "must be a string"}]


@pytest.mark.parametrize("images", [None, []])
def test_create_without_images(api, images):
    body = {"externalId": "p1", "title": "t"}
    if images is not None:
        body["images"] = images
    _refused(api, body, 400, "PRODUCT_IMAGES_REQUIRED")


def test_update_to_an_empty_image_list_is_refused(api, create):
    create()
    _refused(api, {"externalId": "shirt-42", "images": []}, 400, "PRODUCT_IMAGES_REQUIRED")
    assert api.get(f"{PRODUCTS}/shirt-42").json()["images"] == [
        {"sourceUrl": "https://cdn.example/front.jpg", "order": 0}
    ]


def test_update_without_images_keeps_them(api, create):
    create()
    response = api.post_json(PRODUCTS, {"externalId": "shirt-42", "title": "t"})
    assert response.status_code == 200
    assert len(response.json()["images"]) == 1


@pytest.mark.parametrize(
    "entry, path",
    [({}, "images.1"), ({"url": None}, "images.1"), ({"source": {}}, "images.1"), ({"alt": "x"}, "images.1")],
)
def test_image_entry_without_url_or_file_key(api, entry, path):
    payload = _refused(
        api, {"externalId": "p1", "images": [{"url": "https://a.example/1.jpg"}, entry]}, 400, "INVALID_IMAGE_INPUT"
    )
    assert [d["path"] for d in payload["details"]] == [path]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://a.example/1.jpg",
        "javascript:alert(1)",
        "https://",
        "not a url",
        "https://a.example/" + "x" * 2040,
        "https://a.example:99999/1.jpg",
        "",
        42,
    ],
)
def test_bad_image_urls(api, url):
    payload = _refused(api, {"externalId": "p1", "images": [{"url": url}]}, 400, "VALIDATION_FAILED")
    assert [d["path"] for d in payload["details"]] == ["images.0.url"]


def test_url_of_2048_characters_is_accepted(api):
    url = "https://a.example/" + "x" * (2048 - len("https://a.example/"))
    response = api.post_json(PRODUCTS, {"externalId": "p1", "images": [{"url": url}]})
    assert response.status_code == 201
    assert response.json()["images"][0]["sourceUrl"] == url


def test_bad_url_in_source_form_and_image_urls_paths(api):
    payload = _refused(
        api, {"externalId": "p1", "images": [{"source": {"url": "ftp://x/1.jpg"}}]}, 400, "VALIDATION_FAILED"
    )
    assert [d["path"] for d in payload["details"]] == ["images.0.source.url"]
    payload = _refused(
        api, {"externalId": "p1", "imageUrls": ["https://ok.example/a.jpg", "nope"]}, 400, "VALIDATION_FAILED"
    )
    assert [d["path"] for d in payload["details"]] == ["imageUrls.1"]


def test_every_offending_field_is_listed(api):
    payload = _refused(
        api,
        {
            "externalId": "p1",
            "title": 5,
            "description": ["x"],
            "metadata": [1, 2],
            "validForDays": 0,
            "category": "shoes",
            "images": [{"url": "https://a.example/1.jpg", "fileKey": "f"}],
        },
        400,
        "VALIDATION_FAILED",
    )
    assert sorted(d["path"] for d in payload["details"]) == [
        "category",
        "description",
        "images.0",
        "metadata",
        "title",
        "validForDays",
    ]


@pytest.mark.parametrize("value", [0, 366, -1, "5", 1.5, True, {}])
def test_valid_for_days_range(api, value):
    payload = _refused(
        api,
        {"externalId": "p1", "imageUrls": IMG, "validForDays": value},
        400,
        "VALIDATION_FAILED",
    )
    assert [d["path"] for d in payload["details"]] == ["validForDays"]


@pytest.mark.parametrize("value", [1, 365])
def test_valid_for_days_bounds_are_accepted(api, value):
    response = api.post_json(PRODUCTS, {"externalId": "p1", "imageUrls": IMG, "validForDays": value})
    assert response.status_code == 201
    assert response.json()["validForDays"] == value


def test_metadata_over_16_kb(api, create):
    create()
    metadata = {"x": "a" * (16 * 1024)}
    payload = _refused(api, {"externalId": "shirt-42", "metadata": metadata}, 400, "VALIDATION_FAILED")
    assert [d["path"] for d in payload["details"]] == ["metadata"]
    assert api.get(f"{PRODUCTS}/shirt-42").json()["metadata"] is None


def test_images_and_image_urls_together_are_refused(api):
    payload = _refused(
        api,
        {"externalId": "p1", "images": [{"url": "https://a.example/1.jpg"}], "imageUrls": ["https://a.example/2.jpg"]},
        400,
        "VALIDATION_FAILED",
    )
    assert [d["path"] for d in payload["details"]] == ["imageUrls"]


@pytest.mark.parametrize("images", ["https://a.example/1.jpg", {"url": "https://a.example/1.jpg"}, ["https://x/1.jpg"]])
def test_images_of_the_wrong_shape(api, images):
    payload = _refused(api, {"externalId": "p1", "images": images}, 400, "VALIDATION_FAILED")
    assert payload["details"][0]["path"] in ("images", "images.0")


def test_too_many_images(api):
    images = [{"url": f"https://a.example/{i}.jpg"} for i in range(21)]
    payload = _refused(api, {"externalId": "p1", "images": images}, 400, "VALIDATION_FAILED")
    assert [d["path"] for d in payload["details"]] == ["images"]


def test_malformed_bodies(api):
    before = state()
    response = api.post(PRODUCTS, data="{nope", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "MALFORMED_REQUEST")
    response = api.post_json(PRODUCTS, [{"externalId": "p1"}])
    assert (response.status_code, response.json()["code"]) == (400, "MALFORMED_REQUEST")
    response = api.post(PRODUCTS, data="<p/>", content_type="application/xml")
    assert (response.status_code, response.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert state() == before


def test_missing_key(anon, db):
    response = anon.post_json(PRODUCTS, {"externalId": "p1", "imageUrls": IMG})
    assert (response.status_code, response.json()["code"]) == (401, "MISSING_API_KEY")
    assert Product.objects.count() == 0
