"""A product whose uploaded image is replaced while a try-on of it is queued: the queued try-on uses the images it
was accepted with, and the replaced upload is deleted once no try-on in flight reads it any more."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from PIL import Image

from generations.models import Generation
from generations.services import create as create_module
from generations.services.pipeline import generation_process
from products.models import ProductImage
from tests.conftest import ApiClient, postgres_only
from tests.factories import AccountFactory, api_key_for
from tests.generations.helpers import TRYON
from tests.images import jpeg_bytes
from tests.products.conftest import multipart
from tryon_project.models import BlobDeletion
from tryon_project.storage import blob_deletions_process, blob_exists

PRODUCTS = "/tryon/v1/products"
RED, BLUE = (200, 30, 30), (30, 30, 200)


def _upsert_with_upload(api, color: tuple[int, int, int]) -> str:
    body = {"externalId": "shirt-42", "title": "Tee", "images": [{"fileKey": "front"}]}
    response = api.post(PRODUCTS, multipart(body, front=jpeg_bytes(width=400, height=400, color=color)))
    assert response.status_code in (200, 201), response.content
    return ProductImage.objects.get(product__external_id="shirt-42").upload_key


def _person(api) -> str:
    photo = SimpleUploadedFile("me.jpg", jpeg_bytes(width=600, height=750), content_type="image/jpeg")
    response = api.post("/tryon/v1/images/upload", {"file": photo, "crop": "false"})
    assert response.status_code == 201
    return response.json()["imageId"]


def _tryon(api, person_id: str) -> str:
    response = api.post_json(TRYON, {"product": {"externalId": "shirt-42"}, "customer": {"id": person_id}})
    assert response.status_code == 202, response.content
    return response.json()["generationId"]


def _color(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def _close(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 12 for a, e in zip(actual, expected, strict=True))


def test_a_queued_tryon_uses_the_images_it_was_accepted_with(
    api, account, fake_engine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        red_key = _upsert_with_upload(api, RED)
    person_id = _person(api)
    queued = _tryon(api, person_id)  # its task is never sent here: it stays PENDING
    with django_capture_on_commit_callbacks(execute=True):
        blue_key = _upsert_with_upload(api, BLUE)  # the replaced upload's inline deletion runs at this commit
    assert blue_key != red_key
    # Kept for the queued try-on, still scheduled.
    assert blob_exists(key=red_key)
    assert BlobDeletion.objects.filter(storage_key=red_key).exists()
    assert blob_deletions_process() == 0

    assert generation_process(generation_id=queued).status == "completed"
    row = Generation.objects.get(id=queued)
    assert (row.status, row.error_code) == ("COMPLETED", "")
    [call] = fake_engine.calls
    assert len(call.garment_images) == 1 and _close(_color(call.garment_images[0]), RED)

    # Nothing in flight reads it any more: the next deletion run deletes it.
    assert blob_deletions_process() == 1
    assert not blob_exists(key=red_key)
    assert not BlobDeletion.objects.exists()
    assert blob_exists(key=blue_key)

    # A try-on accepted after the replacement uses the new image.
    later = _tryon(api, person_id)
    assert generation_process(generation_id=later).status == "completed"
    assert _close(_color(fake_engine.calls[1].garment_images[0]), BLUE)


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_a_tryon_racing_the_replacement_keeps_its_images(fake_engine, monkeypatch):
    """The replacement commits while a try-on that has read the old images is still in its transaction: the
    try-on's lock on the product makes the replacement wait for it, so the deletion run sees the generation."""
    key = api_key_for(AccountFactory(credits=5))
    red_key = _upsert_with_upload(ApiClient(key), RED)
    person_id = _person(ApiClient(key))
    snapshot_taken, replaced = threading.Event(), threading.Event()
    reserve = create_module.credits_reserve

    def reserve_after_the_replacement(**kwargs):
        # The try-on holds its snapshot here. Let the replacement run; go on once it finished, or after 3 s
        # when it waits for this transaction (the fix).
        snapshot_taken.set()
        replaced.wait(timeout=3)
        return reserve(**kwargs)

    monkeypatch.setattr(create_module, "credits_reserve", reserve_after_the_replacement)
    accepted: list[str] = []

    def tryon() -> None:
        accepted.append(_tryon(ApiClient(key), person_id))
        connections.close_all()

    def replace() -> None:
        assert snapshot_taken.wait(timeout=10)
        _upsert_with_upload(ApiClient(key), BLUE)
        replaced.set()
        connections.close_all()

    threads = [threading.Thread(target=tryon), threading.Thread(target=replace)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [generation_id] = accepted
    assert ProductImage.objects.get(product__external_id="shirt-42").upload_key != red_key
    assert blob_exists(key=red_key)

    assert generation_process(generation_id=generation_id).status == "completed"
    assert Generation.objects.get(id=generation_id).status == "COMPLETED"
    assert _close(_color(fake_engine.calls[0].garment_images[0]), RED)
    assert blob_deletions_process() == 1
    assert not blob_exists(key=red_key)
