"""Every operation of the API through the client, against the live server: what comes back, typed with the wire
format's names, and what it did on the server."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from tryon_client import ImageNotFoundError, ProductNotFoundError

from accounts.models import Account
from customers.models import CustomerImage
from generations.models import Generation
from products.models import Product
from tests.clients.conftest import GARMENT, PERSON

pytestmark = pytest.mark.django_db(transaction=True)

MOCK = {"title": "mock"}  # completes at once, without the engine, and costs no credit (docs/api.md)


def test_credits_upload_try_on_wait_and_download(client_for, eager_celery):
    merchant = client_for(credits=3)
    client = merchant.client

    assert client.get_credits() == {"creditBalance": 3}
    upload = client.upload_image(file=PERSON, customer_id="shopper-1", retention_days=1)
    assert set(upload) == {"imageId", "imageUrl", "expiresAt"}
    stored = CustomerImage.objects.get(pk=upload["imageId"])
    assert (stored.account_id, stored.customer_id, stored.retention_days) == (merchant.account.pk, "shopper-1", 1)

    accepted = client.try_on(
        product={"externalId": "tee-1", "title": "Blue T-shirt"},
        garment_photos=[GARMENT],
        customer={"id": upload["imageId"]},
        customer_id="shopper-1",
    )
    assert accepted["status"] == "PENDING" and accepted["productExternalId"] == "tee-1"
    generation = client.wait_for(accepted["generationId"], timeout=60)

    assert generation["status"] == "COMPLETED", generation
    assert generation["generationId"] == accepted["generationId"]
    row = Generation.objects.get(pk=accepted["generationId"])
    assert row.customer_id == "shopper-1" and row.product_snapshot["title"] == "Blue T-shirt"
    assert client.get_credits() == {"creditBalance": 2}
    result = client.download(generation["resultImageUrl"])
    with Image.open(io.BytesIO(result)) as image:
        assert image.format == "JPEG"
    # The download went to the signed URL without the key; every API call carried it.
    downloads = [r for r in merchant.requests if r.url.path.startswith("/files/")]
    assert len(downloads) == 1 and "x-api-key" not in downloads[0].headers
    assert all(r.headers["x-api-key"] == merchant.api_key for r in merchant.requests if r not in downloads)


@pytest.mark.parametrize("form", ["bytes", "path", "str-path", "file-object"])
def test_photos_travel_as_parts_from_bytes_paths_and_file_objects(client_for, eager_celery, form):
    merchant = client_for(credits=1)
    sources = {
        "bytes": lambda p: p.read_bytes(),
        "path": lambda p: p,
        "str-path": lambda p: str(p),
        "file-object": lambda p: p.open("rb"),
    }
    person, garment = sources[form](PERSON), sources[form](GARMENT)

    accepted = merchant.client.try_on(product={**MOCK}, garment_photos=[garment], person_photo=person)

    generation = merchant.client.wait_for(accepted["generationId"], timeout=30)
    assert generation["status"] == "COMPLETED"
    row = Generation.objects.get(pk=accepted["generationId"])
    assert row.person_image_key  # the person part was decoded and stored
    assert Account.objects.get(pk=merchant.account.pk).credit_balance == 1  # mock: free
    for handle in (person, garment):
        if hasattr(handle, "close"):
            handle.close()


def test_try_on_sync_answers_the_finished_generation(client_for, eager_celery):
    merchant = client_for(credits=1)

    generation = merchant.client.try_on_sync(product={**MOCK}, garment_photos=[GARMENT], person_photo=PERSON)

    assert generation["status"] == "COMPLETED"
    assert "resultImageUrl" in generation and "completedAt" in generation
    assert Generation.objects.get(pk=generation["generationId"]).status == "COMPLETED"


def test_products_upsert_list_get_stats_delete(client_for, eager_celery):
    merchant = client_for(credits=2)
    client = merchant.client

    created = client.upsert_product(
        product={"externalId": "shirt-42", "title": "Red tee", "metadata": {"sku": "R-42"}, "validForDays": 30},
        image_files=[GARMENT],
    )
    assert created["externalId"] == "shirt-42" and created["validForDays"] == 30
    assert [i["order"] for i in created["images"]] == [0]
    assert created["images"][0]["sourceUrl"].startswith("upload://")
    updated = client.upsert_product(product={"externalId": "shirt-42", "description": "Organic cotton"})
    assert (updated["title"], updated["description"]) == ("Red tee", "Organic cotton")
    client.upsert_product(
        product={"externalId": "shirt-43", "title": "Green tee", "images": [{"url": "https://cdn.example.com/g.jpg"}]}
    )

    first = client.list_products(limit=1)
    assert (first["count"], first["hasMore"], [p["externalId"] for p in first["items"]]) == (1, True, ["shirt-43"])
    assert [p["externalId"] for p in client.iter_products(page_size=1)] == ["shirt-43", "shirt-42"]
    assert client.get_product("shirt-42")["metadata"] == {"sku": "R-42"}

    upload = client.upload_image(file=PERSON)
    accepted = client.try_on(product={"externalId": "shirt-42"}, customer={"id": upload["imageId"]})
    assert client.wait_for(accepted["generationId"], timeout=60)["status"] == "COMPLETED"
    stats = client.get_product_stats("shirt-42", date_from="2000-01-01", date_to="2999-12-31")
    assert (stats["totalGenerations"], stats["completedGenerations"], stats["failedGenerations"]) == (1, 1, 0)
    assert client.get_product_stats("shirt-42", date_to="2000-01-01")["totalGenerations"] == 0

    client.delete_product("shirt-42")
    assert not Product.objects.filter(account=merchant.account, external_id="shirt-42").exists()
    with pytest.raises(ProductNotFoundError):
        client.get_product("shirt-42")


def test_ids_with_reserved_characters_are_one_path_segment(client_for, eager_celery):
    merchant = client_for()
    client = merchant.client
    upload = client.upload_image(file=PERSON.read_bytes(), customer_id="shop/42?x=1#y")
    client.upsert_product(product={"externalId": "tee 50% off?#", "title": "Tee"}, image_files=[GARMENT])

    assert client.get_product("tee 50% off?#")["externalId"] == "tee 50% off?#"
    client.erase_customer("shop/42?x=1#y")

    assert not CustomerImage.objects.filter(pk=upload["imageId"]).exists()
    with pytest.raises(ImageNotFoundError):
        client.try_on(product={"externalId": "tee 50% off?#"}, customer={"id": upload["imageId"]})


def test_multipart_body_is_the_json_in_data_and_helpers_add_their_parts(client_for, eager_celery):
    merchant = client_for()

    merchant.client.try_on(
        product={"title": "mock", "images": [{"fileKey": "mine"}]},
        files={"mine": GARMENT},
        garment_photos=[GARMENT.read_bytes()],
        person_photo=PERSON,
        customer_id="shopper-9",
    )

    body = merchant.requests[0].read()
    start = body.index(b'name="data"') + len(b'name="data"\r\n\r\n')
    data = json.loads(body[start : body.index(b"\r\n--", start)])
    assert data == {
        "product": {"title": "mock", "images": [{"fileKey": "mine"}, {"fileKey": "garment-0"}]},
        "customerId": "shopper-9",
        "customer": {"fileKey": "person"},
    }
    assert b'name="mine"; filename="tshirt.jpg"' in body
    assert b'name="garment-0"; filename="garment-0.jpg"' in body
    assert b'name="person"; filename="person.jpg"' in body


def test_customer_and_person_photo_together_are_refused_before_sending(client_for):
    merchant = client_for()
    with pytest.raises(ValueError, match="either customer or person_photo"):
        merchant.client.try_on(product={**MOCK}, customer={"id": "img_x"}, person_photo=PERSON)
    with pytest.raises(ValueError, match="used by the photo helpers"):
        merchant.client.try_on(product={**MOCK}, person_photo=PERSON, files={"person": PERSON})
    assert merchant.answers == []  # nothing reached the server
