"""Services are driven with plain data: no request, no upload handle. What the dashboard relies on."""

from __future__ import annotations

import inspect

import pytest

from accounts.models import CreditLedgerEntry
from customers.erasure import customer_erase
from customers.models import CustomerImage
from generations.inputs import CustomerImageKind, CustomerImageRef, TryOnInput
from generations.models import Generation
from generations.services.create import generation_create
from products.inputs import ImageInput, ProductInput
from products.services import product_upsert
from tests.images import jpeg_bytes
from tryon_project.api.errors import ApiError, ErrorCode
from tryon_project.models import BlobDeletion


def _photo_input(**overrides) -> TryOnInput:
    product = ProductInput(external_id="sku-1", title="Tee", images=(ImageInput(url="https://cdn.example/t.jpg"),))
    ref = CustomerImageRef(
        kind=CustomerImageKind.FILE, value="photo", path="customer.fileKey", data=jpeg_bytes(width=600, height=750)
    )
    return TryOnInput(product=product, customer_image=ref, **overrides)


def test_generation_create_takes_bytes_and_enqueues_after_commit(
    account, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[tuple] = []
    monkeypatch.setattr(
        "generations.services.lifecycle.task_enqueue", lambda **kwargs: sent.append((kwargs["name"], kwargs["args"]))
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        generation = generation_create(account=account, tryon=_photo_input(customer_id="u-1"))
    assert sent == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert sent == [("generations.run", (generation.id,))]
    row = Generation.objects.get(id=generation.id)
    assert (row.status, row.customer_id, row.product_external_id) == ("PENDING", "u-1", "sku-1")
    assert row.customer_image.source == "file" and row.customer_image.customer_id == "u-1"
    account.refresh_from_db()
    assert account.credit_balance == 9


def test_generation_create_signature_is_data_only():
    parameters = inspect.signature(generation_create).parameters
    assert list(parameters) == ["account", "tryon"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


def test_refused_create_leaves_nothing(account, monkeypatch):
    account.credit_balance = 0
    account.save(update_fields=["credit_balance"])
    sent: list = []
    monkeypatch.setattr("generations.services.lifecycle.task_enqueue", lambda **kwargs: sent.append(kwargs))
    with pytest.raises(ApiError) as raised:
        generation_create(account=account, tryon=_photo_input())
    assert raised.value.code is ErrorCode.INSUFFICIENT_CREDITS
    assert (Generation.objects.count(), CustomerImage.objects.count(), sent) == (0, 0, [])


def test_file_ref_without_bytes_is_a_programming_error(account):
    ref = CustomerImageRef(kind=CustomerImageKind.FILE, value="photo", path="customer.fileKey")
    tryon = TryOnInput(product=ProductInput(external_id="sku-1"), customer_image=ref)
    with pytest.raises(ValueError, match="bytes"):
        generation_create(account=account, tryon=tryon)
    assert Generation.objects.count() == 0


def test_product_upsert_takes_bytes(account):
    image = ImageInput(data=jpeg_bytes(width=300, height=300), content_type="image/jpeg")
    product, created = product_upsert(
        account=account, external_id="sku-2", fields=ProductInput(title="Tee", images=(image,)), mode="catalog"
    )
    assert created and [row.upload_key != "" for row in product.images.all()] == [True]


def test_customer_erase_enqueues_its_deletions_after_commit(account, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("generations.services.lifecycle.task_enqueue", lambda **kwargs: None)
    generation = generation_create(account=account, tryon=_photo_input(customer_id="u-2"))
    person_key = Generation.objects.get(id=generation.id).person_image_key
    sent: list[tuple] = []
    monkeypatch.setattr(
        "tryon_project.storage.task_enqueue", lambda **kwargs: sent.append((kwargs["name"], kwargs["args"]))
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        keys = customer_erase(account=account, customer_id="u-2")
    assert keys == [person_key] and sent == []
    assert list(BlobDeletion.objects.values_list("storage_key", flat=True)) == [person_key]
    for callback in callbacks:
        callback()
    assert sent == [("platform.delete_blobs", ([person_key],))]
    row = Generation.objects.get(id=generation.id)
    assert (row.status, row.error_code, row.customer_id) == ("FAILED", "CUSTOMER_DATA_DELETED", "")
    assert CreditLedgerEntry.objects.filter(generation_ref=generation.id, kind="refund").count() == 1


def test_customer_erase_of_nobody_sends_nothing(account, django_capture_on_commit_callbacks, monkeypatch):
    sent: list = []
    monkeypatch.setattr("tryon_project.storage.task_enqueue", lambda **kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        assert customer_erase(account=account, customer_id="nobody") == []
    assert sent == [] and BlobDeletion.objects.count() == 0
