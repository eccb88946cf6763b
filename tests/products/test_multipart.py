"""POST /products as multipart: `data` holds the JSON, `fileKey` entries name the other parts."""

from __future__ import annotations

import io
import re

from PIL import Image

from products.models import ProductImage
from tests.images import jpeg_bytes
from tests.products.conftest import PRODUCTS, multipart, state
from tests.storage_fixtures import all_storage_keys
from tryon_project.storage import blob_read


def test_mixed_url_and_file_images(api, jpeg):
    body = {
        "externalId": "p1",
        "title": "Mixed",
        "images": [{"url": "https://a.example/1.jpg"}, {"fileKey": "front"}, {"source": {"fileKey": "back"}}],
    }
    response = api.post(PRODUCTS, data=multipart(body, front=jpeg, back=jpeg))
    assert response.status_code == 201, response.content
    images = response.json()["images"]
    assert [image["order"] for image in images] == [0, 1, 2]
    assert images[0]["sourceUrl"] == "https://a.example/1.jpg"
    refs = [images[1]["sourceUrl"], images[2]["sourceUrl"]]
    assert all(re.fullmatch(r"upload://[A-Za-z0-9_-]{20,}", ref) for ref in refs)
    assert refs[0] != refs[1]
    keys = all_storage_keys()
    assert len(keys) == 2
    # The opaque reference never reveals where the bytes are stored.
    assert not any(key in response.content.decode() for key in keys)
    rows = list(ProductImage.objects.filter(upload_key__isnull=False).order_by("order"))
    assert sorted(row.upload_key for row in rows) == keys
    stored = Image.open(io.BytesIO(blob_read(key=rows[0].upload_key)))
    assert (stored.format, stored.size) == ("JPEG", (120, 160))


def test_same_part_named_twice_is_stored_once(api, jpeg):
    body = {"externalId": "p1", "images": [{"fileKey": "f"}, {"fileKey": "f"}]}
    response = api.post(PRODUCTS, data=multipart(body, f=jpeg))
    assert response.status_code == 201
    assert len(all_storage_keys()) == 1
    assert ProductImage.objects.count() == 2


def test_missing_part(api, jpeg):
    before = state()
    body = {"externalId": "p1", "images": [{"fileKey": "front"}, {"fileKey": "nope"}]}
    response = api.post(PRODUCTS, data=multipart(body, front=jpeg))
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "MULTIPART_FILE_NOT_FOUND"
    assert [d["path"] for d in payload["details"]] == ["images.1.fileKey"]
    assert state() == before


def test_missing_part_in_source_form(api):
    before = state()
    response = api.post(PRODUCTS, data=multipart({"externalId": "p1", "images": [{"source": {"fileKey": "x"}}]}))
    assert response.json()["code"] == "MULTIPART_FILE_NOT_FOUND"
    assert [d["path"] for d in response.json()["details"]] == ["images.0.source.fileKey"]
    assert state() == before


def test_file_key_in_a_json_body_names_no_part(api):
    before = state()
    response = api.post_json(PRODUCTS, {"externalId": "p1", "images": [{"fileKey": "front"}]})
    assert (response.status_code, response.json()["code"]) == (400, "MULTIPART_FILE_NOT_FOUND")
    assert state() == before


def test_undecodable_file(api, jpeg):
    before = state()
    body = {"externalId": "p1", "images": [{"fileKey": "good"}, {"fileKey": "bad"}]}
    response = api.post(PRODUCTS, data=multipart(body, good=jpeg, bad=b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "INVALID_IMAGE"
    assert [d["path"] for d in payload["details"]] == ["images.1.fileKey"]
    assert state() == before


def test_too_small_image(api):
    response = api.post(
        PRODUCTS, data=multipart({"externalId": "p1", "images": [{"fileKey": "f"}]}, f=jpeg_bytes(width=32, height=32))
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_IMAGE")
    assert state() == (0, 0, [])


def test_multipart_without_data_field(api, jpeg):
    response = api.post(PRODUCTS, data={"front": io.BytesIO(jpeg)})
    assert (response.status_code, response.json()["code"]) == (400, "MALFORMED_REQUEST")
    response = api.post(PRODUCTS, data={"data": "[1]"})
    assert (response.status_code, response.json()["code"]) == (400, "MALFORMED_REQUEST")
    assert state() == (0, 0, [])


def test_multipart_external_id_required(api, jpeg):
    response = api.post(PRODUCTS, data=multipart({"images": [{"fileKey": "f"}]}, f=jpeg))
    assert response.json()["code"] == "EXTERNAL_ID_REQUIRED"
    assert state() == (0, 0, [])


def test_replacing_an_uploaded_image_deletes_its_blob_after_commit(api, jpeg, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(PRODUCTS, data=multipart({"externalId": "p1", "images": [{"fileKey": "f"}]}, f=jpeg))
    [first_key] = all_storage_keys()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(PRODUCTS, data=multipart({"externalId": "p1", "images": [{"fileKey": "g"}]}, g=jpeg))
    assert response.status_code == 200
    [second_key] = all_storage_keys()
    assert second_key != first_key
    assert ProductImage.objects.get().upload_key == second_key
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post_json(PRODUCTS, {"externalId": "p1", "images": [{"url": "https://a.example/1.jpg"}]})
    assert response.json()["images"] == [{"sourceUrl": "https://a.example/1.jpg", "order": 0}]
    assert all_storage_keys() == []


def test_failed_update_leaves_the_stored_blobs(api, jpeg, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(PRODUCTS, data=multipart({"externalId": "p1", "images": [{"fileKey": "f"}]}, f=jpeg))
    before = state()
    response = api.post(PRODUCTS, data=multipart({"externalId": "p1", "images": [{"fileKey": "f"}, {}]}, f=jpeg))
    assert response.json()["code"] == "INVALID_IMAGE_INPUT"
    assert state() == before
