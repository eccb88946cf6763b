"""Objects stored while a try-on is being accepted are deleted when its transaction rolls back, on local files
and on the S3-compatible server: an inline product's uploads stored before the credit reservation fails, or
before any later step fails, leave nothing in storage."""

import io
import json
import threading
from collections import Counter

import pytest
from django.db import connections, transaction

import generations.services.create as create_module
from accounts.models import Account, CreditLedgerEntry
from accounts.services import credits_reserve
from customers.models import CustomerImage
from generations.models import Generation
from products.models import Product, ProductImage
from tests.conftest import ApiClient, postgres_only
from tests.factories import AccountFactory, api_key_for
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys
from tryon_project import storage
from tryon_project.models import BlobDeletion
from tryon_project.storage import blob_atomic, blob_exists, blob_save

TRYON = "/tryon/v1/try-on"


def _inline_body(*, external_id: str = "tee-inline") -> dict:
    return {
        "product": {
            "externalId": external_id,
            "title": "Tee",
            "images": [{"fileKey": "front"}, {"fileKey": "back"}],
        },
        "customer": {"fileKey": "me"},
    }


def _parts(external_id: str = "tee-inline") -> dict:
    parts: dict = {"data": json.dumps(_inline_body(external_id=external_id))}
    for name, image in (
        ("me", jpeg_bytes(width=600, height=750)),
        ("front", jpeg_bytes(color=(0, 0, 250))),
        ("back", jpeg_bytes(color=(0, 250, 0))),
    ):
        part = io.BytesIO(image)
        part.name = f"{name}.jpg"
        parts[name] = part
    return parts


@pytest.fixture
def stored_keys(monkeypatch) -> list[str]:
    """Every key `blob_save` wrote during the test, so a test can show the objects existed before the rollback."""
    keys: list[str] = []
    real = storage.blob_key

    def key_recorded(**kwargs) -> str:
        keys.append(real(**kwargs))
        return keys[-1]

    monkeypatch.setattr(storage, "blob_key", key_recorded)
    return keys


def _spent_by_a_concurrent_request(monkeypatch, account: Account) -> None:
    """The balance passed the early check, then another request spends the last credit before this one's
    reservation: the real conditional UPDATE then refuses it, after the inline product's uploads were stored."""

    def reserve(**kwargs):
        Account.objects.filter(pk=account.pk).update(credit_balance=0)
        return credits_reserve(**kwargs)

    monkeypatch.setattr(create_module, "credits_reserve", reserve)


def _assert_nothing_remains(account: Account) -> None:
    assert all_storage_keys() == []
    assert Product.objects.filter(account=account).count() == 0
    assert ProductImage.objects.count() == 0
    assert CustomerImage.objects.filter(account=account).count() == 0
    assert Generation.objects.filter(account=account).count() == 0
    assert CreditLedgerEntry.objects.filter(account=account, kind="reserve").count() == 0
    # Deleted at once, not left to the deletion run (whose rows would be its only trace).
    assert BlobDeletion.objects.count() == 0


@pytest.mark.django_db
def test_inline_uploads_are_deleted_when_the_credit_reservation_fails(
    any_storage, api, account, monkeypatch, stored_keys
):
    _spent_by_a_concurrent_request(monkeypatch, account)
    response = api.post(TRYON, _parts())
    assert response.status_code == 402, response.content
    assert response.json()["code"] == "INSUFFICIENT_CREDITS"
    # The customer photo and both product uploads were stored before the reservation failed.
    assert len(stored_keys) == 3
    assert sorted(key.split("/")[0] for key in stored_keys) == ["customer", "product-upload", "product-upload"]
    assert not any(blob_exists(key=key) for key in stored_keys)
    _assert_nothing_remains(account)


@pytest.mark.django_db
def test_any_error_after_the_uploads_deletes_them(any_storage, api, account, monkeypatch, stored_keys):
    def touch_fails(**kwargs):
        raise RuntimeError("the row could not be touched")

    monkeypatch.setattr(create_module, "product_touch", touch_fails)
    response = api.post(TRYON, _parts())
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert len(stored_keys) == 3
    _assert_nothing_remains(account)
    account.refresh_from_db()
    assert account.credit_balance == 10


@pytest.mark.django_db
def test_an_accepted_tryon_keeps_exactly_its_objects(any_storage, api, account, stored_keys):
    response = api.post(TRYON, _parts())
    assert response.status_code == 202, response.content
    generation = Generation.objects.get(id=response.json()["generationId"])
    uploads = sorted(ProductImage.objects.filter(product__account=account).values_list("upload_key", flat=True))
    assert all_storage_keys() == sorted([generation.person_image_key, *uploads]) == sorted(stored_keys)
    assert BlobDeletion.objects.count() == 0


@pytest.mark.django_db
def test_mock_result_is_deleted_when_the_tryon_fails_after_it(api, account, monkeypatch, stored_keys):
    def touch_fails(**kwargs):
        raise RuntimeError("the row could not be touched")

    monkeypatch.setattr(create_module, "product_touch", touch_fails)
    parts = _parts()
    body = _inline_body()
    body["product"]["title"] = "mock"
    parts["data"] = json.dumps(body)
    assert api.post(TRYON, parts).status_code == 500
    assert [key.split("/")[0] for key in stored_keys].count("result") == 1
    _assert_nothing_remains(account)


# --- The scope itself ---------------------------------------------------------------------------------------------


def _save(name: str) -> str:
    return blob_save(kind=name, data=b"x", content_type="image/jpeg")


@pytest.mark.django_db
def test_objects_of_an_inner_scope_die_with_the_enclosing_rollback(any_storage):
    with pytest.raises(RuntimeError), blob_atomic():
        with blob_atomic():
            inner = _save("inner")
        assert blob_exists(key=inner)
        raise RuntimeError("the enclosing step fails")
    assert not blob_exists(key=inner)
    assert all_storage_keys() == []


@pytest.mark.django_db
def test_a_rolled_back_inner_scope_takes_only_its_own_objects(any_storage):
    with blob_atomic():
        outer = _save("outer")
        try:
            with blob_atomic():
                inner = _save("inner")
                raise ValueError("the inner step fails and is handled")
        except ValueError:
            pass
        assert not blob_exists(key=inner)
        after = _save("after")
    assert all_storage_keys() == sorted([outer, after])


@pytest.mark.django_db
def test_objects_stored_outside_a_scope_are_the_callers(any_storage):
    outside = _save("outside")
    with pytest.raises(RuntimeError), transaction.atomic():
        plain = _save("plain")
        raise RuntimeError("a plain transaction owns no objects")
    with pytest.raises(RuntimeError), blob_atomic():
        raise RuntimeError("an empty scope")
    assert all_storage_keys() == sorted([outside, plain])


@pytest.mark.django_db
def test_an_object_storage_refuses_to_delete_is_queued(monkeypatch):
    def refuse(*, key):
        raise OSError("storage unavailable")

    monkeypatch.setattr(storage, "blob_delete", refuse)
    with pytest.raises(RuntimeError), blob_atomic():
        key = _save("refused")
        raise RuntimeError("rolls back")
    assert list(BlobDeletion.objects.values_list("storage_key", flat=True)) == [key]


# --- Real concurrency -----------------------------------------------------------------------------------------------


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_concurrent_inline_tryons_for_one_credit_leave_only_the_winners_objects():
    account = AccountFactory(credits=1)
    key = api_key_for(account)
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        parts = _parts(external_id=f"tee-{index}")
        barrier.wait()
        statuses.append(ApiClient(key).post(TRYON, parts).status_code)
        connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {202: 1, 402: 7}
    generation = Generation.objects.get(account=account)
    uploads = sorted(ProductImage.objects.filter(product__account=account).values_list("upload_key", flat=True))
    assert len(uploads) == 2
    # Every loser had stored its photo and two uploads before its reservation failed: none of them remains.
    assert all_storage_keys() == sorted([generation.person_image_key, *uploads])
    assert Product.objects.filter(account=account).count() == 1
    assert BlobDeletion.objects.count() == 0
