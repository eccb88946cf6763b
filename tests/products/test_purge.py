"""The periodic purge of expired products: rows and stored blobs go, live products and history stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.conf import settings

from products import tasks
from products.inputs import ImageInput, ProductInput
from products.models import Product, ProductImage
from products.services import product_purge_expired, product_upsert
from tests.factories import AccountFactory
from tests.products.conftest import PRODUCTS, multipart
from tests.storage_fixtures import all_storage_keys
from tryon_project.storage import blob_save

T0 = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)


def _upsert(account, external_id, mode="inline"):
    product, _ = product_upsert(
        account=account,
        external_id=external_id,
        mode=mode,
        fields=ProductInput(images=(ImageInput(url="https://a.example/1.jpg"),)),
    )
    return product


def test_purge_deletes_expired_products_and_their_blobs(api, account, jpeg, django_capture_on_commit_callbacks):
    other = AccountFactory()
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        api.post(
            PRODUCTS,
            data=multipart(
                {
                    "externalId": "short",
                    "validForDays": 1,
                    "images": [{"fileKey": "f"}, {"url": "https://a.example/2.jpg"}],
                },
                f=jpeg,
            ),
        )
        api.post(PRODUCTS, data=multipart({"externalId": "forever", "images": [{"fileKey": "f"}]}, f=jpeg))
        for _ in range(5):
            _upsert(other, None, mode="one_shot")
        _upsert(account, "inline-1")
    # A cached download of the expiring product's URL image.
    cached = ProductImage.objects.get(product__external_id="short", source_url__isnull=False)
    cached.cached_key = blob_save(kind="product-cache", data=jpeg, content_type="image/jpeg")
    cached.save()
    forever_key = ProductImage.objects.get(product__external_id="forever").upload_key
    assert len(all_storage_keys()) == 3

    with time_machine.travel(T0 + timedelta(days=8), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert product_purge_expired(batch_size=2) == 6
    assert sorted(Product.objects.values_list("external_id", flat=True)) == ["forever", "inline-1"]
    assert all_storage_keys() == [forever_key]
    assert ProductImage.objects.count() == 2
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        assert product_purge_expired() == 0  # idempotent
    with time_machine.travel(T0 + timedelta(days=16), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.product_purge_expired.apply().get() == 1
    assert list(Product.objects.values_list("external_id", flat=True)) == ["forever"]


def test_nothing_to_purge(db):
    assert product_purge_expired() == 0


def test_purge_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["products-purge-expired"]
    assert entry["task"] == "products.tasks.product_purge_expired"
    assert entry["schedule"] == 3600.0
    assert tasks.product_purge_expired.name == entry["task"]
