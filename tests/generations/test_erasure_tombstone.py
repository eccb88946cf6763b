"""A signed URL minted before an erasure stops serving at the erasure's commit, before any deletion job ran: the
deletion row written by the erase transaction is the tombstone the file view checks."""

from __future__ import annotations

import io

from customers.models import CustomerImage
from generations.models import Generation
from tests.generations.helpers import TRYON
from tests.images import jpeg_bytes
from tryon_project.models import BlobDeletion
from tryon_project.storage import DELETE_TASK, blob_exists, blob_signed_url

NOT_SERVED = {"code": "NOT_FOUND", "message": "This file no longer exists.", "status": 404}


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _upload(api, customer_id: str) -> str:
    buffer = io.BytesIO(jpeg_bytes(width=600, height=750))
    buffer.name = "me.jpg"
    response = api.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false", "customerId": customer_id})
    assert response.status_code == 201
    return response.json()["imageId"]


def test_signed_urls_of_erased_objects_die_at_the_erase_commit(
    api, anon, account, images, fake_engine, eager, monkeypatch, django_capture_on_commit_callbacks
):
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        image_id = _upload(api, "user-3")
        response = api.post_json(
            TRYON,
            {
                "product": {"externalId": "shirt", "title": "Tee", "images": [{"url": f"{base}/shirt.jpg"}]},
                "customer": {"id": image_id},
                "customerId": "user-3",
            },
        )
        generation_id = response.json()["generationId"]
    result_url = api.get(f"/tryon/v1/generations/{generation_id}").json()["resultImageUrl"]
    photo_key = CustomerImage.objects.get(id=image_id).storage_key
    result_key = Generation.objects.get(id=generation_id).result_key
    photo_url = blob_signed_url(key=photo_key).url
    assert anon.get(_path(result_url)).status_code == 200
    assert anon.get(_path(photo_url)).status_code == 200

    sent: list[str] = []
    monkeypatch.setattr(
        "tryon_project.storage.task_enqueue", lambda *, name, args, recovery, **kw: sent.append(name) or True
    )
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        assert api.delete("/tryon/v1/customers/user-3").status_code == 204

    # Committed, no deletion job has run: both objects are still in storage, and neither is served.
    assert sent == [] and len(after_commit) == 1
    assert blob_exists(key=photo_key) and blob_exists(key=result_key)
    assert set(BlobDeletion.objects.values_list("storage_key", flat=True)) == {photo_key, result_key}
    for url in (result_url, photo_url):
        denied = anon.get(_path(url))
        assert denied.status_code == 404
        assert denied["Content-Type"] == "application/json"
        assert denied.json() == NOT_SERVED

    after_commit[0]()  # the deletion job is sent after commit; once it has run, the objects are gone
    assert sent == [DELETE_TASK]
    assert anon.get(_path(result_url)).json() == NOT_SERVED
