"""Decoding work per request (one pixel budget across every image of the request) and per process (a capacity in
pixels with a bounded wait), driven through the API. The memory figure of a real process is in
tests/platform/test_pixel_amplification.py."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import pytest

import tryon_project.images as images_module
from customers.models import CustomerImage
from generations.models import Generation
from products.models import Product
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for
from tests.images import jpeg_bytes, png_bytes
from tryon_project.images import image_decode_pixels_in_use, image_decode_slot, image_normalize

UPLOAD = "/tryon/v1/images/upload"
PRODUCTS = "/tryon/v1/products"
TRYON = "/tryon/v1/try-on"


def _part(name: str, data: bytes) -> io.BytesIO:
    part = io.BytesIO(data)
    part.name = name
    return part


@pytest.fixture
def decodes(monkeypatch) -> list[tuple[int, int]]:
    """The (width, height) of every full decode the image path starts."""
    seen: list[tuple[int, int]] = []
    real_load = images_module._load

    def counting_load(im):
        seen.append(im.size)
        return real_load(im)

    monkeypatch.setattr(images_module, "_load", counting_load)
    return seen


def _product(external_id: str, count: int) -> dict:
    return {
        "data": json.dumps(
            {"externalId": external_id, "title": "Tee", "images": [{"fileKey": f"p{i}"} for i in range(count)]}
        ),
        **{f"p{i}": _part(f"p{i}.png", png_bytes(width=600, height=600)) for i in range(count)},
    }


def _stored_files(settings) -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def test_parts_over_the_request_budget_are_413_before_decoding_and_nothing_is_written(api, settings, decodes):
    settings.TRYON_MAX_REQUEST_PIXELS = 1_000_000  # two 600x600 parts fit (720,000), a third does not
    response = api.post(PRODUCTS, _product("three", 3))
    assert response.status_code == 413, response.content
    body = response.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert "more than 1000000 pixels together" in body["message"]
    assert body["details"][0]["path"] == "images.2.fileKey"
    # The third part was refused from its header: only two full decodes ran.
    assert decodes == [(600, 600), (600, 600)]
    assert not Product.objects.exists()
    assert _stored_files(settings) == []
    assert image_decode_pixels_in_use() == 0


def test_the_budget_is_per_request(api, settings):
    settings.TRYON_MAX_REQUEST_PIXELS = 1_000_000
    for external_id in ("first", "second", "third"):
        response = api.post(PRODUCTS, _product(external_id, 2))
        assert response.status_code == 201, response.content
    assert Product.objects.count() == 3


def test_the_customer_part_of_a_try_on_shares_the_budget(api, account, settings, decodes):
    settings.TRYON_MAX_REQUEST_PIXELS = 500_000  # the product part (360,000) fits, the customer photo does not
    data = {
        "product": {"externalId": "inline", "title": "Tee", "images": [{"fileKey": "garment"}]},
        "customer": {"fileKey": "photo"},
    }
    response = api.post(
        TRYON,
        {
            "data": json.dumps(data),
            "garment": _part("garment.png", png_bytes(width=600, height=600)),
            "photo": _part("photo.jpg", jpeg_bytes(width=400, height=500)),
        },
    )
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert decodes == [(600, 600)]
    account.refresh_from_db()
    assert account.credit_balance == 10  # nothing charged
    assert not Generation.objects.exists()
    assert not CustomerImage.objects.exists()
    assert not Product.objects.exists()
    assert _stored_files(settings) == []


def test_a_jpeg_is_charged_at_its_draft_scale(api, settings, decodes):
    # With a 200 px cap, a 1600x1600 JPEG decodes at 1/2 scale (800x800 = 640,000 pixels): it fits a budget its
    # full size (2,560,000) would not. The same canvas as a PNG must decode in full and is refused.
    settings.TRYON_MAX_LONG_SIDE = 200
    settings.TRYON_MAX_REQUEST_PIXELS = 1_000_000
    jpeg = jpeg_bytes(width=1600, height=1600)
    response = api.post(UPLOAD, {"file": _part("big.jpg", jpeg), "crop": "false"})
    assert response.status_code == 201, response.content
    assert decodes == [(800, 800)]
    response = api.post(UPLOAD, {"file": _part("big.png", png_bytes(width=1600, height=1600)), "crop": "false"})
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert decodes == [(800, 800)]
    assert CustomerImage.objects.count() == 1


def test_outside_a_request_there_is_no_budget(settings):
    # The worker and the dashboard decode outside an API request: only the per-image limits apply there.
    settings.TRYON_MAX_REQUEST_PIXELS = 1
    assert image_normalize(data=png_bytes(width=300, height=300)).width == 300


def test_a_full_decoding_capacity_answers_503_with_retry_after_and_writes_nothing(api, settings):
    settings.TRYON_IMAGE_DECODE_PIXELS = 1_000_000
    settings.TRYON_IMAGE_DECODE_WAIT_SECONDS = 0.2
    photo = png_bytes(width=600, height=600)
    with image_decode_slot(pixels=1_000_000):
        response = api.post(UPLOAD, {"file": _part("photo.png", photo), "crop": "false"})
    assert response.status_code == 503, response.content
    assert response.json() == {
        "code": "SERVICE_UNAVAILABLE",
        "message": "The server is decoding as many images as it can at once; retry shortly.",
        "status": 503,
    }
    assert response["Retry-After"] == "2"
    assert not CustomerImage.objects.exists()
    assert _stored_files(settings) == []
    assert image_decode_pixels_in_use() == 0
    # Once the capacity is free, the same request is served.
    response = api.post(UPLOAD, {"file": _part("photo.png", photo), "crop": "false"})
    assert response.status_code == 201, response.content


def test_a_busy_decoder_fails_a_customer_url_with_503_not_as_a_bad_image(api, settings, monkeypatch):
    # The customer URL path maps the image path's refusals to CUSTOMER_IMAGE_FETCH_FAILED; a full decoder is not a
    # refusal of the bytes and must stay a retryable 503.
    settings.TRYON_IMAGE_DECODE_PIXELS = 100_000
    settings.TRYON_IMAGE_DECODE_WAIT_SECONDS = 0.1
    fetched = type("Fetched", (), {"content": jpeg_bytes(width=400, height=500), "content_type": "image/jpeg"})()
    monkeypatch.setattr("generations.services.create.url_fetch", lambda **kwargs: fetched)
    data = {"product": {"externalId": "p", "title": "Tee", "imageUrl": "https://shop.example/tee.jpg"}}
    data["customer"] = {"url": "https://shop.example/me.jpg"}
    with image_decode_slot(pixels=100_000):
        response = api.post_json(TRYON, data)
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"] == "2"
    assert not Generation.objects.exists()


def test_another_accounts_small_photo_finds_room_beside_a_large_decode(db, settings):
    settings.TRYON_IMAGE_DECODE_PIXELS = 1_000_000
    settings.TRYON_IMAGE_DECODE_WAIT_SECONDS = 0.2
    client = ApiClient(api_key_for(AccountFactory()))
    with image_decode_slot(pixels=900_000):
        response = client.post(UPLOAD, {"file": _part("small.jpg", jpeg_bytes(width=300, height=300)), "crop": "false"})
    assert response.status_code == 201, response.content


def test_concurrent_decodes_never_hold_more_than_the_capacity(settings, monkeypatch):
    settings.TRYON_IMAGE_DECODE_PIXELS = 2_000_000  # two of the 1000x1000 images below
    settings.TRYON_IMAGE_DECODE_WAIT_SECONDS = 30
    held: list[int] = []
    real_load = images_module._load

    def slow_load(im):
        held.append(image_decode_pixels_in_use())
        time.sleep(0.05)  # keeps decodes overlapping, so the capacity is what keeps them apart
        return real_load(im)

    monkeypatch.setattr(images_module, "_load", slow_load)
    data = png_bytes(width=1000, height=1000)
    results: list[int] = []
    errors: list[BaseException] = []

    def normalise() -> None:
        try:
            results.append(image_normalize(data=data).width)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=normalise) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8
    assert max(held) <= 2_000_000
    assert image_decode_pixels_in_use() == 0


def test_an_image_larger_than_the_whole_capacity_still_decodes_alone(settings):
    settings.TRYON_IMAGE_DECODE_PIXELS = 10_000
    assert image_normalize(data=png_bytes(width=300, height=300)).width == 300
    assert image_decode_pixels_in_use() == 0


def test_a_refused_decode_gives_its_capacity_back(settings):
    settings.TRYON_IMAGE_DECODE_PIXELS = 1_000_000
    truncated = png_bytes(width=600, height=600)[:-40]
    with pytest.raises(images_module.ImageRejected):
        image_normalize(data=truncated)
    assert image_decode_pixels_in_use() == 0


def test_the_waiting_try_on_shares_the_budget_too(api, account, settings, decodes):
    # /try-on/sync is an async view: the budget opened by the middleware must reach the code it runs in threads.
    settings.TRYON_MAX_REQUEST_PIXELS = 500_000
    data = {
        "product": {"externalId": "inline-sync", "title": "Tee", "images": [{"fileKey": "garment"}]},
        "customer": {"fileKey": "photo"},
    }
    response = api.post(
        "/tryon/v1/try-on/sync",
        {
            "data": json.dumps(data),
            "garment": _part("garment.png", png_bytes(width=600, height=600)),
            "photo": _part("photo.jpg", jpeg_bytes(width=400, height=500)),
        },
    )
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert decodes == [(600, 600)]
    account.refresh_from_db()
    assert account.credit_balance == 10
    assert not Generation.objects.exists()
