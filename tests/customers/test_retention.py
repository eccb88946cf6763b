import io
import threading

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from customers.models import CustomerImage
from customers.services import customer_images_purge_expired
from tests.conftest import postgres_only
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys
from tryon_project.models import BlobDeletion
from tryon_project.storage import blob_deletions_process

UPLOAD = "/tryon/v1/images/upload"


def _upload(api, days: str) -> str:
    buffer = io.BytesIO(jpeg_bytes())
    buffer.name = "p.jpg"
    return api.post(UPLOAD, {"file": buffer, "crop": "false", "retentionDays": days}).json()["imageId"]


def test_expired_uploads_are_purged_and_refused(api, any_storage):
    short, long_ = _upload(api, "1"), _upload(api, "7")
    keep = CustomerImage.objects.get(id=long_).storage_key
    assert customer_images_purge_expired() == 0
    with time_machine.travel(timezone.now() + timezone.timedelta(days=1, seconds=1)):
        body = {
            "product": {"externalId": "p", "title": "t", "images": [{"url": "https://cdn.example/a.jpg"}]},
            "customer": {"id": short},
        }
        refused = api.post_json("/tryon/v1/try-on", body)
        assert refused.status_code == 404 and refused.json()["code"] == "IMAGE_NOT_FOUND"
        assert customer_images_purge_expired() == 1
        assert customer_images_purge_expired() == 0  # idempotent
    assert blob_deletions_process() == 1
    assert not CustomerImage.objects.filter(id=short).exists()
    assert all_storage_keys() == [keep]
    assert not BlobDeletion.objects.exists()


def test_failed_storage_deletion_is_kept_and_retried(api, monkeypatch):
    image_id = _upload(api, "1")
    key = CustomerImage.objects.get(id=image_id).storage_key
    with time_machine.travel(timezone.now() + timezone.timedelta(days=2)):
        customer_images_purge_expired()

    def broken(*, key):
        raise OSError("storage down")

    monkeypatch.setattr("tryon_project.storage.blob_delete", broken)
    assert blob_deletions_process() == 0
    row = BlobDeletion.objects.get(storage_key=key)
    assert (row.attempts, row.last_error) == (1, "OSError")
    monkeypatch.undo()
    assert blob_deletions_process() == 1
    assert all_storage_keys() == []


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_purge_is_safe_on_several_workers_at_once():
    from accounts.models import Account
    from customers.services import customer_image_create

    account = Account.objects.create(name="purge-race", credit_balance=0)
    for _ in range(30):
        customer_image_create(account=account, data=jpeg_bytes(), crop=False, retention_days=1)
    counts: list[int] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        total = 0
        try:
            while purged := customer_images_purge_expired(batch_size=5):
                total += purged
        finally:
            counts.append(total)
            connections.close_all()

    with time_machine.travel(timezone.now() + timezone.timedelta(days=2)):
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(counts) == 30  # every row purged exactly once
    assert CustomerImage.objects.count() == 0
    assert BlobDeletion.objects.count() == 30
    assert blob_deletions_process(batch_size=100) == 30
    assert all_storage_keys() == []
