"""Concurrent upserts of one externalId on PostgreSQL, with real threads and connections: one row, no error, and
with differing payloads the row equals exactly one of them (never a mix)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from PIL import Image

from products.models import Product, ProductImage
from tests.conftest import ApiClient
from tests.images import jpeg_bytes
from tests.products.conftest import PRODUCTS, multipart
from tests.storage_fixtures import all_storage_keys

THREADS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
]


def _run_concurrently(requests) -> list:
    barrier = threading.Barrier(len(requests))

    def run(request):
        try:
            barrier.wait(timeout=10)
            return request()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def test_identical_upserts_make_one_product(api_key):
    body = {"externalId": "shirt-42", "title": "Tee", "images": [{"url": "https://a.example/1.jpg"}]}

    def request():
        return ApiClient(api_key).post_json(PRODUCTS, body)

    responses = _run_concurrently([request] * THREADS)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert Product.objects.count() == 1
    assert ProductImage.objects.count() == 1
    bodies = [response.json() for response in responses]
    assert {(b["externalId"], b["title"], b["images"][0]["sourceUrl"]) for b in bodies} == {
        ("shirt-42", "Tee", "https://a.example/1.jpg")
    }


def test_differing_upserts_leave_exactly_one_payload(api_key):
    def payload(index: int) -> dict:
        return {
            "externalId": "shirt-42",
            "title": f"title-{index}",
            "description": f"description-{index}",
            "metadata": {"index": index},
            "validForDays": index + 1,
            "images": [
                {"url": f"https://a.example/{index}/front.jpg"},
                {"fileKey": "file"},
                {"url": f"https://a.example/{index}/back.jpg"},
            ],
        }

    def request_for(index: int):
        image = jpeg_bytes(width=80 + index, height=100)
        return lambda: ApiClient(api_key).post(PRODUCTS, data=multipart(payload(index), file=image))

    responses = _run_concurrently([request_for(index) for index in range(THREADS)])
    assert sorted(response.status_code for response in responses) == [200] * (THREADS - 1) + [201]
    product = Product.objects.get()
    winner = int(product.title.removeprefix("title-"))
    assert (product.description, product.metadata, product.valid_for_days) == (
        f"description-{winner}",
        {"index": winner},
        winner + 1,
    )
    images = list(product.images.order_by("order"))
    assert [image.source_url for image in images] == [
        f"https://a.example/{winner}/front.jpg",
        None,
        f"https://a.example/{winner}/back.jpg",
    ]
    assert ProductImage.objects.count() == 3
    # Every replaced upload was deleted after its transaction committed: only the winner's bytes remain.
    assert all_storage_keys() == [images[1].upload_key]
    with default_storage.open(images[1].upload_key) as handle:
        assert Image.open(handle).size == (80 + winner, 100)
    # The API reads back exactly the stored winner.
    body = ApiClient(api_key).get(f"{PRODUCTS}/shirt-42").json()
    assert (body["title"], body["validForDays"]) == (f"title-{winner}", winner + 1)
