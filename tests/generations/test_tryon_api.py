import io
import json
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest

from accounts.models import Account, CreditLedgerEntry
from customers.models import CustomerImage
from generations.models import Generation
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for
from tests.generations.helpers import TRYON
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys


def _product(base: str, external_id: str | None = "shirt-42", **extra) -> dict:
    item = {"title": "Red tee", "images": [{"url": f"{base}/shirt.jpg"}], **extra}
    if external_id is not None:
        item["externalId"] = external_id
    return item


def _balance(account) -> int:
    return Account.objects.get(pk=account.pk).credit_balance


def test_baseline_shape_accepted_and_charged(
    api, account, images, uploaded_image_id, fake_engine, django_capture_on_commit_callbacks
):
    base, _ = images
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post_json(
            TRYON,
            {
                "product": _product(base),
                "customer": {"id": uploaded_image_id},
                "customerId": "user-1",
                "retentionDays": 3,
                "useWatermark": False,
            },
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"generationId", "status", "productExternalId"}
    assert body["status"] == "PENDING" and body["productExternalId"] == "shirt-42"
    assert body["generationId"].startswith("gen_")
    generation = Generation.objects.get(id=body["generationId"])
    assert (generation.status, generation.customer_id, generation.use_watermark) == ("PENDING", "user-1", False)
    # retentionDays is ignored with an imageId: the upload's own retention applies.
    assert generation.retention_days == 7
    assert generation.product_snapshot["title"] == "Red tee"
    assert _balance(account) == 9
    assert CreditLedgerEntry.objects.filter(generation_ref=generation.id, kind="reserve").count() == 1
    assert len(callbacks) == 1  # the task is sent after commit, once


def test_pipeline_completes_and_poll_shows_signed_result(
    api, account, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks
):
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post_json(TRYON, {"product": _product(base), "customer": {"id": uploaded_image_id}})
    generation_id = response.json()["generationId"]
    poll = api.get(f"/tryon/v1/generations/{generation_id}")
    assert poll.status_code == 200
    body = poll.json()
    assert body["status"] == "COMPLETED"
    assert set(body) == {
        "generationId",
        "status",
        "productExternalId",
        "resultImageUrl",
        "resultImageExpiresAt",
        "createdAt",
        "updatedAt",
        "completedAt",
        "durationMs",
    }
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24
    generation = Generation.objects.get(id=generation_id)
    # The URL names exactly the stored result (signed, local storage: /files/<key>), and no other field leaks the key.
    assert generation.result_key.startswith("result/")
    assert urlsplit(body["resultImageUrl"]).path == f"/files/{quote(generation.result_key)}"
    assert generation.result_key not in json.dumps({k: v for k, v in body.items() if k != "resultImageUrl"})
    # The URL is signed at read time, never stored.
    assert "sig=" in body["resultImageUrl"] or "Signature" in body["resultImageUrl"]
    assert body["resultImageUrl"] not in json.dumps(
        list(Generation.objects.values().filter(id=generation_id)), default=str
    )
    url_path = body["resultImageUrl"].split("://", 1)[1].split("/", 1)[1]
    served = api.get("/" + url_path)
    assert served.status_code == 200
    assert len(fake_engine.calls) == 1
    request = fake_engine.calls[0]
    assert len(request.garment_images) == 1 and request.title == "Red tee"
    assert _balance(account) == 9  # kept on success
    assert CreditLedgerEntry.objects.filter(generation_ref=generation_id).count() == 1


def test_terminal_engine_error_fails_and_refunds_once(
    api, account, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks
):
    from tests.generations.helpers import terminal

    fake_engine.errors = [terminal()]
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post_json(TRYON, {"product": _product(base), "customer": {"id": uploaded_image_id}})
    body = api.get(f"/tryon/v1/generations/{response.json()['generationId']}").json()
    assert body["status"] == "FAILED"
    assert body["errorCode"] == "PERSON_NOT_DETECTED" and body["errorMessage"] == "no person"
    assert "resultImageUrl" not in body
    assert _balance(account) == 10
    kinds = sorted(CreditLedgerEntry.objects.filter(generation_ref=body["generationId"]).values_list("kind", flat=True))
    assert kinds == ["refund", "reserve"]


def test_retryable_error_retries_then_completes(
    api, account, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks
):
    from tests.generations.helpers import retryable

    fake_engine.errors = [retryable()]
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post_json(TRYON, {"product": _product(base), "customer": {"id": uploaded_image_id}})
    generation = Generation.objects.get(id=response.json()["generationId"])
    assert generation.status == "COMPLETED"
    assert generation.attempts == 2
    assert len(fake_engine.calls) == 2
    assert _balance(account) == 9


def test_retryable_errors_exhausted_fail_with_one_refund(
    api, account, images, uploaded_image_id, fake_engine, eager, django_capture_on_commit_callbacks
):
    from tests.generations.helpers import retryable

    fake_engine.errors = [retryable(), retryable(), retryable(), retryable()]
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post_json(TRYON, {"product": _product(base), "customer": {"id": uploaded_image_id}})
    generation = Generation.objects.get(id=response.json()["generationId"])
    assert (generation.status, generation.error_code) == ("FAILED", "ENGINE_ERROR")
    assert _balance(account) == 10
    assert CreditLedgerEntry.objects.filter(generation_ref=generation.id, kind="refund").count() == 1


@pytest.mark.parametrize("shape", ["v13", "v14"])
def test_later_shapes_map_to_the_same_request(api, images, uploaded_image_id, shape):
    base, _ = images
    if shape == "v13":
        body = {
            "product": {"externalId": "p-13", "title": "Tee", "images": [{"source": {"url": f"{base}/shirt.jpg"}}]},
            "customer": {"source": {"id": uploaded_image_id}},
            "customerId": "u-13",
            "useWatermark": "false",
        }
    else:
        body = {
            "products": [{"externalId": "p-14", "title": "Tee", "imageUrls": [f"{base}/shirt.jpg"]}],
            "person": {"image": {"source": {"id": uploaded_image_id}}},
            "externalUserId": "u-14",
            "output": {"watermark": False, "keepForDays": 1},
        }
    response = api.post_json(TRYON, body)
    assert response.status_code == 202, response.content
    generation = Generation.objects.get(id=response.json()["generationId"])
    assert generation.product_external_id == ("p-13" if shape == "v13" else "p-14")
    assert generation.customer_id == ("u-13" if shape == "v13" else "u-14")
    assert generation.use_watermark is False
    assert generation.product_snapshot["images"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"product": {"externalId": "a"}, "products": [{"externalId": "a"}], "customer": {"id": "img_x"}}, "products"),
        (
            {"product": {"externalId": "a"}, "customer": {"id": "img_x"}, "person": {"image": {"source": {"id": "x"}}}},
            "person",
        ),
        ({"products": [], "customer": {"id": "img_x"}}, "products"),
        ({"products": [{"externalId": "a"}, {"externalId": "b"}], "customer": {"id": "img_x"}}, "products"),
        ({"customer": {"id": "img_x"}}, "product"),
        (
            {"product": {"externalId": "a"}, "customer": {"id": "img_x", "url": "https://x.example/a.jpg"}},
            "customer.id",
        ),
        ({"product": {"externalId": "a"}, "customer": {"id": "img_x"}, "retentionDays": 5}, "retentionDays"),
        ({"product": {"externalId": "a"}, "customer": {"id": "img_x"}, "useWatermark": "perhaps"}, "useWatermark"),
    ],
)
def test_validation_failures_create_nothing(api, account, body, path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post_json(TRYON, body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "VALIDATION_FAILED"
    assert path in [d["path"] for d in payload["details"]]
    assert Generation.objects.count() == 0 and callbacks == []
    assert _balance(account) == 10


@pytest.mark.parametrize(
    "body",
    [
        {"product": {"externalId": "a"}},
        {"product": {"externalId": "a"}, "customer": {}},
        {"product": {"externalId": "a"}, "customer": {"source": {}}},
        {"products": [{"externalId": "a"}], "person": {"image": {"source": {"id": ""}}}},
    ],
)
def test_customer_image_required(api, body):
    response = api.post_json(TRYON, body)
    assert response.status_code == 400
    assert response.json()["code"] == "CUSTOMER_IMAGE_REQUIRED"


def test_image_not_found_cases(api, account, images, uploaded_image_id):
    base, _ = images
    other = AccountFactory(credits=5)
    other_image = ApiClient(api_key_for(other))
    buffer = io.BytesIO(jpeg_bytes())
    buffer.name = "x.jpg"
    foreign_id = other_image.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false"}).json()["imageId"]
    for image_id in ("img_doesnotexist", foreign_id):
        response = api.post_json(TRYON, {"product": _product(base), "customer": {"id": image_id}})
        assert response.status_code == 404
        assert response.json()["code"] == "IMAGE_NOT_FOUND"
    CustomerImage.objects.filter(id=uploaded_image_id).update(expires_at="2000-01-01T00:00:00Z")
    response = api.post_json(TRYON, {"product": _product(base), "customer": {"id": uploaded_image_id}})
    assert response.json()["code"] == "IMAGE_NOT_FOUND"
    assert Generation.objects.count() == 0
    assert _balance(account) == 10


def test_customer_url_is_fetched_processed_and_retained(api, images):
    base, handler = images
    response = api.post_json(
        TRYON,
        {
            "product": _product(base),
            "customer": {"url": f"{base}/person.jpg"},
            "retentionDays": 1,
            "customerId": "u-url",
        },
    )
    assert response.status_code == 202, response.content
    generation = Generation.objects.get(id=response.json()["generationId"])
    image = generation.customer_image
    assert (image.source, image.retention_days, image.customer_id) == ("url", 1, "u-url")
    assert abs(image.width / image.height - 0.8) < 0.01  # cropped 4:5 like an upload
    assert handler.hits == ["/person.jpg"]  # product image URLs are not fetched in the request


@pytest.mark.parametrize("path", ["/missing.jpg", "/page.html"])
def test_customer_url_failures(api, account, images, path):
    base, _ = images
    response = api.post_json(TRYON, {"product": _product(base), "customer": {"url": f"{base}{path}"}})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "CUSTOMER_IMAGE_FETCH_FAILED"
    assert body["details"][0]["path"] == "customer.url"
    assert Generation.objects.count() == 0 and CustomerImage.objects.count() == 0
    assert all_storage_keys() == []
    assert _balance(account) == 10


def test_customer_url_blocked_address(api, account):
    response = api.post_json(
        TRYON,
        {
            "product": {"externalId": "x", "title": "t", "images": [{"url": "https://cdn.example/a.jpg"}]},
            "customer": {"url": "http://169.254.169.254/latest/meta-data"},
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "CUSTOMER_IMAGE_FETCH_FAILED"


def test_multipart_file_keys(api, images):
    base, _ = images
    data = {
        "product": {
            "externalId": "mp-1",
            "title": "Tee",
            "images": [{"fileKey": "garment"}, {"url": f"{base}/shirt.jpg"}],
        },
        "customer": {"fileKey": "me"},
        "customerId": "u-mp",
    }
    person, garment = io.BytesIO(jpeg_bytes(width=700, height=900)), io.BytesIO(jpeg_bytes(color=(0, 0, 250)))
    person.name, garment.name = "me.jpg", "g.jpg"
    response = api.post(TRYON, {"data": json.dumps(data), "me": person, "garment": garment})
    assert response.status_code == 202, response.content
    generation = Generation.objects.get(id=response.json()["generationId"])
    assert generation.customer_image.source == "file"
    assert len(generation.product_snapshot["images"]) == 2


def test_multipart_missing_part(api, account):
    data = {
        "product": {"externalId": "mp-2", "title": "Tee", "images": [{"url": "https://cdn.example/a.jpg"}]},
        "customer": {"fileKey": "nope"},
    }
    response = api.post(TRYON, {"data": json.dumps(data)})
    assert response.status_code == 400
    assert response.json()["code"] == "MULTIPART_FILE_NOT_FOUND"
    assert _balance(account) == 10


def test_multipart_bad_data(api):
    response = api.post(TRYON, {"data": "{nope"})
    assert response.status_code == 400 and response.json()["code"] == "MALFORMED_REQUEST"
    response = api.post(TRYON, {"data": "[1, 2]"})
    assert response.status_code == 400 and response.json()["code"] == "MALFORMED_REQUEST"


def test_reference_mode_unknown_product(api, account, uploaded_image_id):
    response = api.post_json(TRYON, {"product": {"externalId": "never-created"}, "customer": {"id": uploaded_image_id}})
    assert response.status_code == 404
    assert response.json()["code"] == "PRODUCT_NOT_FOUND"
    assert Generation.objects.count() == 0 and _balance(account) == 10


def test_reference_mode_existing_product(api, images, uploaded_image_id):
    base, _ = images
    assert (
        api.post_json(
            "/tryon/v1/products", {"externalId": "cat-1", "title": "Cat tee", "images": [{"url": f"{base}/shirt.jpg"}]}
        ).status_code
        == 201
    )
    response = api.post_json(TRYON, {"product": {"externalId": "cat-1"}, "customer": {"id": uploaded_image_id}})
    assert response.status_code == 202
    generation = Generation.objects.get(id=response.json()["generationId"])
    assert generation.product_snapshot["title"] == "Cat tee"
    product = api.get("/tryon/v1/products/cat-1").json()
    assert product["lastUsedAt"] is not None


def test_one_shot_product(api, images, uploaded_image_id):
    base, _ = images
    response = api.post_json(
        TRYON, {"product": _product(base, external_id=None), "customer": {"id": uploaded_image_id}}
    )
    assert response.status_code == 202
    external_id = response.json()["productExternalId"]
    assert external_id.startswith("_anon_")
    assert api.get(f"/tryon/v1/products/{external_id}").json()["validForDays"] == 7


def test_one_shot_without_images(api, uploaded_image_id, account):
    response = api.post_json(TRYON, {"product": {"title": "Tee"}, "customer": {"id": uploaded_image_id}})
    assert response.status_code == 400
    assert response.json()["code"] == "PRODUCT_IMAGES_REQUIRED"
    assert _balance(account) == 10


def test_insufficient_credits_creates_nothing(db, images, django_capture_on_commit_callbacks):
    base, _ = images
    broke = AccountFactory()
    client = ApiClient(api_key_for(broke))
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post_json(
            TRYON, {"product": _product(base, external_id="new-one"), "customer": {"url": f"{base}/person.jpg"}}
        )
    assert response.status_code == 402
    assert response.json() == {
        "code": "INSUFFICIENT_CREDITS",
        "message": "No credit left on this account.",
        "status": 402,
    }
    assert Generation.objects.count() == 0 and CustomerImage.objects.count() == 0 and callbacks == []
    assert client.get("/tryon/v1/products/new-one").status_code == 404
    assert all_storage_keys() == []
    assert not CreditLedgerEntry.objects.filter(account=broke).exists()


def test_mock_product_is_instant_and_free(api, account, uploaded_image_id, images, django_capture_on_commit_callbacks):
    base, _ = images
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post_json(
            TRYON,
            {
                "product": {"externalId": "m", "title": "mock", "images": [{"url": f"{base}/shirt.jpg"}]},
                "customer": {"id": uploaded_image_id},
            },
        )
    assert response.status_code == 202
    assert response.json()["status"] == "PENDING"
    assert callbacks == []  # nothing enqueued
    body = api.get(f"/tryon/v1/generations/{response.json()['generationId']}").json()
    assert body["status"] == "COMPLETED" and body["resultImageUrl"]
    assert _balance(account) == 10
    assert not CreditLedgerEntry.objects.filter(generation_ref=body["generationId"]).exists()


def test_generation_not_found_and_forbidden(api, db, images, uploaded_image_id):
    assert api.get("/tryon/v1/generations/gen_nope").json()["code"] == "GENERATION_NOT_FOUND"
    assert api.get("/tryon/v1/generations/gen_nope").status_code == 404
    base, _ = images
    generation_id = api.post_json(TRYON, {"product": _product(base), "customer": {"id": uploaded_image_id}}).json()[
        "generationId"
    ]
    intruder = ApiClient(api_key_for(AccountFactory()))
    response = intruder.get(f"/tryon/v1/generations/{generation_id}")
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


def test_sync_returns_terminal_generation(api, uploaded_image_id, images):
    base, _ = images
    response = api.post_json(
        "/tryon/v1/try-on/sync",
        {
            "product": {"externalId": "m", "title": "mock", "images": [{"url": f"{base}/shirt.jpg"}]},
            "customer": {"id": uploaded_image_id},
        },
    )
    assert response.status_code == 200
    assert response.json()["status"] == "COMPLETED"
    assert response.json()["resultImageUrl"]
    assert response["X-RateLimit-Limit"] == "100"


def test_sync_times_out_to_202(api, uploaded_image_id, images, settings):
    settings.TRYON_SYNC_WAIT_SECONDS = 1
    base, _ = images
    response = api.post_json(
        "/tryon/v1/try-on/sync", {"product": _product(base), "customer": {"id": uploaded_image_id}}
    )
    assert response.status_code == 202
    assert set(response.json()) == {"generationId", "status", "productExternalId"}


def test_sync_errors_have_error_shape(api):
    response = api.post_json("/tryon/v1/try-on/sync", {"product": {"externalId": "a"}})
    assert response.status_code == 400
    assert response.json()["code"] == "CUSTOMER_IMAGE_REQUIRED"


def test_every_offending_field_is_reported_at_once(api, account):
    response = api.post_json(
        TRYON,
        {
            "product": {"externalId": "x", "title": "T", "images": [{"url": "ftp://nope/a.jpg"}], "validForDays": 0},
            "customer": {"id": "img_x"},
            "retentionDays": 5,
            "useWatermark": "perhaps",
            "customerId": "",
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    paths = sorted(detail["path"] for detail in body["details"])
    assert paths == ["customerId", "product.images.0.url", "product.validForDays", "retentionDays", "useWatermark"]
    assert Generation.objects.count() == 0 and _balance(account) == 10


def test_field_errors_come_before_a_missing_customer_image(api):
    response = api.post_json(
        TRYON,
        {
            "products": [{"externalId": "x", "title": "T", "images": [{"url": "https://cdn.example/a.jpg"}]}],
            "output": {"keepForDays": 2},
        },
    )
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert [d["path"] for d in response.json()["details"]] == ["output.keepForDays"]
    response = api.post_json(TRYON, {"products": [{"externalId": "x"}]})
    assert response.json()["code"] == "CUSTOMER_IMAGE_REQUIRED"


@pytest.mark.parametrize("mode_body", ["inline", "reference"])
def test_accept_locks_the_product_once_and_records_its_use(api, images, uploaded_image_id, mode_body):
    """The try-on's own transaction locks the product row once; recording the use updates it without a second
    lock and read, and still moves `lastUsedAt` and the expiry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    base, _ = images
    if mode_body == "reference":
        created = api.post_json(
            "/tryon/v1/products",
            {"externalId": "shirt-42", "title": "Red tee", "images": [{"url": f"{base}/shirt.jpg"}]},
        )
        assert created.status_code == 201 and created.json()["lastUsedAt"] is None
        body = {"product": {"externalId": "shirt-42"}, "customer": {"id": uploaded_image_id}}
    else:
        body = {"product": _product(base), "customer": {"id": uploaded_image_id}}
    with CaptureQueriesContext(connection) as queries:
        response = api.post_json(TRYON, body)
    assert response.status_code == 202, response.content
    product_locks = [
        q["sql"] for q in queries.captured_queries if 'FROM "products_product"' in q["sql"] and "FOR UPDATE" in q["sql"]
    ]
    product_reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "products_product"')]
    if connection.features.has_select_for_update:
        assert len(product_locks) == 1
    assert len(product_reads) == (2 if mode_body == "reference" else 1)
    generation = Generation.objects.get(id=response.json()["generationId"])
    product = api.get("/tryon/v1/products/shirt-42").json()
    assert product["lastUsedAt"] is not None
    stored = generation.product
    stored.refresh_from_db()
    assert stored.last_used_at is not None and stored.last_used_at >= generation.created_at
    expected_days = None if mode_body == "reference" else 15
    if expected_days is None:
        assert stored.expires_at is None
    else:
        assert stored.expires_at == stored.last_used_at + timedelta(days=expected_days)
