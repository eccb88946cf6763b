import io

import pytest
from django.utils import timezone

from accounts.models import Account, CreditLedgerEntry
from customers.models import CustomerImage
from generations.models import Generation
from generations.services.lifecycle import generation_claim, generation_complete
from generations.services.maintenance import generation_results_purge_expired, generations_reap
from tests.conftest import postgres_only
from tests.generations.helpers import TRYON
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys
from tryon_project.models import BlobDeletion
from tryon_project.storage import blob_exists, blob_save


def _upload(api, customer_id: str | None) -> str:
    buffer = io.BytesIO(jpeg_bytes(width=600, height=750))
    buffer.name = "me.jpg"
    form = {"file": buffer, "crop": "false"}
    if customer_id:
        form["customerId"] = customer_id
    return api.post("/tryon/v1/images/upload", form).json()["imageId"]


def _tryon(api, base: str, image_id: str, customer_id: str | None, **extra) -> str:
    body = {
        "product": {"externalId": "shirt", "title": "Tee", "images": [{"url": f"{base}/shirt.jpg"}]},
        "customer": {"id": image_id},
        **extra,
    }
    if customer_id:
        body["customerId"] = customer_id
    response = api.post_json(TRYON, body)
    assert response.status_code == 202, response.content
    return response.json()["generationId"]


def _user_keys() -> set[str]:
    """Every stored object except the catalog's product images (not end-user data)."""
    return {key for key in all_storage_keys() if not key.startswith("product")}


def _signed_path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_erasure_removes_every_file_of_the_user_only(
    api, account, images, fake_engine, eager, any_storage, django_capture_on_commit_callbacks
):
    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        mine = _upload(api, "user-1")
        done = _tryon(api, base, mine, "user-1")
        # A photo uploaded without the id but used with it must go too.
        anonymous_upload = _upload(api, None)
        used_with_id = _tryon(api, base, anonymous_upload, "user-1")
        theirs = _upload(api, "user-2")
        other = _tryon(api, base, theirs, "user-2")
    in_flight = _tryon(api, base, _upload(api, "user-1"), "user-1")  # never processed: still PENDING
    before = api.get(f"/tryon/v1/generations/{done}").json()["resultImageUrl"]
    user2_keys = {CustomerImage.objects.get(id=theirs).storage_key, Generation.objects.get(id=other).result_key}
    assert user2_keys <= _user_keys()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete("/tryon/v1/customers/user-1")
    assert response.status_code == 204
    assert response.content == b""

    assert _user_keys() == user2_keys  # zero files of user-1 (results, uploads, inline photos), user-2 untouched
    assert not BlobDeletion.objects.exists()
    assert CustomerImage.objects.filter(customer_id="user-1").count() == 0
    assert not CustomerImage.objects.filter(id=anonymous_upload).exists()
    assert CustomerImage.objects.filter(id=theirs).exists()
    for generation_id in (done, used_with_id):
        row = Generation.objects.get(id=generation_id)
        assert (row.customer_id, row.person_image_key, row.result_key, row.status) == ("", "", "", "COMPLETED")
        body = api.get(f"/tryon/v1/generations/{generation_id}").json()
        assert body["resultDeleted"] is True and "resultImageUrl" not in body
    flight = Generation.objects.get(id=in_flight)
    assert (flight.status, flight.error_code) == ("FAILED", "CUSTOMER_DATA_DELETED")
    assert CreditLedgerEntry.objects.filter(generation_ref=in_flight, kind="refund").count() == 1
    if any_storage == "local":
        assert api.get(_signed_path(before)).status_code == 404
    assert api.delete("/tryon/v1/customers/user-1").status_code == 204
    assert api.delete("/tryon/v1/customers/nobody-at-all").status_code == 204
    assert _user_keys() == user2_keys


def test_erasure_id_is_url_decoded(api, account, images):
    base, _ = images
    image_id = _upload(api, "user/with space@x")
    _tryon(api, base, image_id, "user/with space@x")
    assert api.delete("/tryon/v1/customers/user%2Fwith%20space%40x").status_code == 204
    assert not CustomerImage.objects.filter(id=image_id).exists()
    assert not Generation.objects.filter(customer_id="user/with space@x").exists()


def test_erasure_fences_a_worker_mid_flight(api, account, images, fake_engine):
    base, _ = images
    generation_id = _tryon(api, base, _upload(api, "user-9"), "user-9")
    claim = generation_claim(generation_id=generation_id)
    assert claim is not None and claim.attempt == 1
    api.delete("/tryon/v1/customers/user-9")
    late_key = blob_save(kind="result", data=b"late", content_type="image/jpeg")
    assert generation_complete(claim=claim, result_key=late_key) is False
    row = Generation.objects.get(id=generation_id)
    assert (row.status, row.error_code, row.result_key) == ("FAILED", "CUSTOMER_DATA_DELETED", "")


def test_stale_attempt_cannot_finish_and_deletes_its_object(api, account, images, fake_engine):
    from generations.services.pipeline import _store_and_finish

    base, _ = images
    generation_id = _tryon(api, base, _upload(api, None), None)
    first = generation_claim(generation_id=generation_id)
    second = generation_claim(generation_id=generation_id)  # a redelivered task after a worker crash
    assert (first.attempt, second.attempt) == (1, 2)
    before = set(all_storage_keys())
    assert _store_and_finish(claim=first, image=b"stale", content_type="image/jpeg", timings={}).status == "stale"
    assert set(all_storage_keys()) == before
    assert _store_and_finish(claim=second, image=b"fresh", content_type="image/jpeg", timings={}).status == "completed"
    row = Generation.objects.get(id=generation_id)
    assert row.status == "COMPLETED" and blob_exists(key=row.result_key)
    assert len(set(all_storage_keys()) - before) == 1  # exactly one result object


def test_reaper_resends_old_pending_and_times_out_dead_processing(api, account, images, settings, monkeypatch):
    base, _ = images
    sent: list[str] = []
    monkeypatch.setattr(
        "generations.services.maintenance.generation_enqueue", lambda *, generation_id: sent.append(generation_id)
    )
    pending = _tryon(api, base, _upload(api, None), None)
    stuck = _tryon(api, base, _upload(api, None), None)
    dead = _tryon(api, base, _upload(api, None), None)
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    Generation.objects.filter(id=pending).update(updated_at=long_ago)
    Generation.objects.filter(id=stuck).update(status="PROCESSING", attempts=1, updated_at=long_ago)
    Generation.objects.filter(id=dead).update(
        status="PROCESSING", attempts=settings.TRYON_MAX_ATTEMPTS, updated_at=long_ago
    )
    stats = generations_reap()
    assert stats == {"resent": 1, "requeued": 1, "timed_out": 1}
    assert sorted(sent) == sorted([pending, stuck])
    assert Generation.objects.get(id=stuck).status == "PENDING"
    failed = Generation.objects.get(id=dead)
    assert (failed.status, failed.error_code) == ("FAILED", "GENERATION_TIMEOUT")
    assert Account.objects.get(pk=account.pk).credit_balance == 10 - 3 + 1
    assert generations_reap() == {"resent": 0, "requeued": 0, "timed_out": 0}


def test_results_purged_after_retention(api, account, images, fake_engine, eager, django_capture_on_commit_callbacks):
    from tryon_project.storage import blob_deletions_process

    base, _ = images
    with django_capture_on_commit_callbacks(execute=True):
        generation_id = _tryon(api, base, _upload(api, None), None)
    row = Generation.objects.get(id=generation_id)
    Generation.objects.filter(id=generation_id).update(result_expires_at=timezone.now())
    assert generation_results_purge_expired() == 1
    assert blob_deletions_process() >= 1
    assert not blob_exists(key=row.result_key)
    body = api.get(f"/tryon/v1/generations/{generation_id}").json()
    assert body["status"] == "COMPLETED" and body["resultDeleted"] is True
    assert generation_results_purge_expired() == 0


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_one_credit_twenty_concurrent_requests(images):
    import threading
    from collections import Counter

    from django.db import connections

    from tests.conftest import ApiClient
    from tests.factories import AccountFactory, api_key_for

    base, _ = images
    account = AccountFactory(credits=1)
    key = api_key_for(account)
    image_id = _upload(ApiClient(key), None)
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def worker() -> None:
        client = ApiClient(key)
        barrier.wait()
        response = client.post_json(
            TRYON,
            {
                "product": {"externalId": "same", "title": "Tee", "images": [{"url": f"{base}/shirt.jpg"}]},
                "customer": {"id": image_id},
            },
        )
        statuses.append(response.status_code)
        connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {202: 1, 402: 19}
    assert Generation.objects.count() == 1
    assert Account.objects.get(pk=account.pk).credit_balance == 0
    assert CreditLedgerEntry.objects.filter(account=account, kind="reserve").count() == 1
