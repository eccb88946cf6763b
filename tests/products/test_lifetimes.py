"""Lifetimes measured from last use, and "expired means absent" everywhere (docs/products.md "Lifetimes")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from products.inputs import ImageInput, ProductInput
from products.models import Product
from products.services import product_touch, product_upsert
from tests.products.conftest import PRODUCTS

T0 = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)


def _absent(api, external_id: str) -> None:
    for response in (
        api.get(f"{PRODUCTS}/{external_id}"),
        api.get(f"{PRODUCTS}/{external_id}/stats"),
        api.delete(f"{PRODUCTS}/{external_id}"),
    ):
        assert response.status_code == 404
        assert response.json() == {
            "code": "PRODUCT_NOT_FOUND",
            "message": f"Product '{external_id}' not found.",
            "status": 404,
        }
    assert external_id not in [item["externalId"] for item in api.get(PRODUCTS).json()["items"]]


def test_catalog_product_is_kept_forever(api, create):
    with time_machine.travel(T0, tick=False):
        body = create()
    assert (body["validForDays"], body["expiresAt"]) == (None, None)
    with time_machine.travel(T0 + timedelta(days=4000), tick=False):
        assert api.get(f"{PRODUCTS}/shirt-42").status_code == 200
        assert api.get(PRODUCTS).json()["count"] == 1


def test_valid_for_days_counts_from_creation_until_used(api, create):
    with time_machine.travel(T0, tick=False):
        body = create(validForDays=10)
    assert body["expiresAt"] == "2026-05-23T10:00:00.000Z"
    with time_machine.travel(T0 + timedelta(days=10, microseconds=-1000), tick=False):
        assert api.get(f"{PRODUCTS}/shirt-42").status_code == 200
        assert api.get(PRODUCTS).json()["count"] == 1
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        _absent(api, "shirt-42")
    # Absent, not gone: the row stays until the purge, and nothing above deleted it.
    assert Product.objects.filter(external_id="shirt-42").count() == 1


def test_touch_measures_the_lifetime_from_last_use(api, create):
    with time_machine.travel(T0, tick=False):
        create(validForDays=10)
    used_at = T0 + timedelta(days=6)
    with time_machine.travel(used_at, tick=False):
        product = Product.objects.get()
        touched = product_touch(product=product)
    assert (touched.last_used_at, touched.expires_at) == (used_at, used_at + timedelta(days=10))
    with time_machine.travel(T0 + timedelta(days=15), tick=False):
        body = api.get(f"{PRODUCTS}/shirt-42").json()
        assert (body["lastUsedAt"], body["expiresAt"]) == ("2026-05-19T10:00:00.000Z", "2026-05-29T10:00:00.000Z")
    with time_machine.travel(used_at + timedelta(days=10), tick=False):
        _absent(api, "shirt-42")


def test_touch_of_a_forever_product_records_use_only(create):
    create()
    with time_machine.travel(T0, tick=False):
        product = product_touch(product=Product.objects.get())
    stored = Product.objects.get()
    assert (stored.last_used_at, stored.expires_at) == (T0, None)
    assert product.last_used_at == T0


def test_changing_valid_for_days_recomputes_the_expiry(api, create):
    with time_machine.travel(T0, tick=False):
        create(validForDays=10)
        product_touch(product=Product.objects.get())
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        body = api.post_json(PRODUCTS, {"externalId": "shirt-42", "validForDays": 2}).json()
        assert body["expiresAt"] == "2026-05-15T10:00:00.000Z"
        body = api.post_json(PRODUCTS, {"externalId": "shirt-42", "validForDays": None}).json()
        assert body["expiresAt"] is None


def test_inline_and_one_shot_lifetimes(api, account):
    images = (ImageInput(url="https://a.example/1.jpg"),)
    with time_machine.travel(T0, tick=False):
        inline, _ = product_upsert(
            account=account, external_id="inline-1", fields=ProductInput(images=images), mode="inline"
        )
        one_shot, _ = product_upsert(
            account=account, external_id=None, fields=ProductInput(images=images), mode="one_shot"
        )
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        assert api.get(f"{PRODUCTS}/{one_shot.external_id}").status_code == 200
        product_touch(product=inline)
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        _absent(api, one_shot.external_id)
        assert api.get(f"{PRODUCTS}/inline-1").status_code == 200
    with time_machine.travel(T0 + timedelta(days=21), tick=False):
        _absent(api, "inline-1")


def test_upserting_an_expired_product_creates_it_anew(api, create):
    with time_machine.travel(T0, tick=False):
        create(title="old", validForDays=1, metadata={"old": True})
    old_pk = Product.objects.get().pk
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        response = api.post_json(PRODUCTS, {"externalId": "shirt-42", "title": "new"})
        assert response.json()["code"] == "PRODUCT_IMAGES_REQUIRED"
        response = api.post_json(PRODUCTS, {"externalId": "shirt-42", "imageUrls": ["https://a.example/n.jpg"]})
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["metadata"], body["validForDays"]) == (None, None, None)
    assert body["createdAt"] == "2026-05-15T10:00:00.000Z"
    assert Product.objects.get().pk != old_pk


def test_inline_upsert_of_an_expired_catalog_product_starts_a_new_inline_one(api, create, account):
    with time_machine.travel(T0, tick=False):
        create(validForDays=1)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        product, created = product_upsert(
            account=account,
            external_id="shirt-42",
            mode="inline",
            fields=ProductInput(images=(ImageInput(url="https://a.example/1.jpg"),)),
        )
    assert created is True
    assert (product.kind, product.valid_for_days) == ("inline", 15)


@pytest.mark.django_db(transaction=True)
def test_touch_of_a_locked_row_needs_the_transaction_holding_the_lock(account):
    images = (ImageInput(url="https://a.example/1.jpg"),)
    product, _ = product_upsert(
        account=account, external_id="inline-1", fields=ProductInput(images=images), mode="inline"
    )
    with pytest.raises(ValueError):
        product_touch(product=product, row_locked=True)
    assert Product.objects.get().last_used_at is None
    with time_machine.travel(T0, tick=False), transaction.atomic():
        product_touch(product=product, row_locked=True)
    stored = Product.objects.get()
    assert (stored.last_used_at, stored.expires_at) == (T0, T0 + timedelta(days=15))
