"""Data for dashboard tests: one merchant's objects of every kind, created through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import Account, ApiKey, CreditLedgerEntry
from accounts.services import api_key_create, credits_topup, dashboard_user_create
from customers.models import CustomerImage
from customers.services import customer_image_create
from generations.models import Generation, GenerationStatus
from products.inputs import ImageInput, ProductInput
from products.models import Product
from products.services import product_snapshot, product_upsert
from tests.factories import AccountFactory
from tests.images import jpeg_bytes
from tests.watermark.images import half_logo
from tryon_project.storage import blob_save
from watermark.models import WatermarkSettings
from watermark.services import watermark_settings_update


@dataclass
class Shop:
    account: Account
    username: str
    password: str
    api_key: ApiKey
    product: Product
    upload: CustomerImage
    generation: Generation
    failed: Generation
    watermark: WatermarkSettings
    ledger_entry: CreditLedgerEntry

    def login(self) -> Client:
        client = Client()
        assert client.login(username=self.username, password=self.password)
        return client


def completed_generation(
    *,
    account: Account,
    person: bytes,
    result: bytes,
    upload: CustomerImage | None = None,
    external_id: str = "tee",
    duration_ms: int = 2400,
    **extra,
) -> Generation:
    """A finished generation with both images in storage, as the worker leaves it."""
    now = timezone.now()
    return Generation.objects.create(
        account=account,
        product_external_id=external_id,
        customer_image=upload,
        person_image_key=blob_save(kind="person", data=person, content_type="image/jpeg"),
        result_key=blob_save(kind="result", data=result, content_type="image/jpeg"),
        status=GenerationStatus.COMPLETED,
        attempts=1,
        engine="",
        started_at=now,
        completed_at=now,
        result_expires_at=now + timedelta(days=7),
        duration_ms=duration_ms,
        timings={"engine": "local", "engine_ms": 131.0, "total_ms": 180.0},
        **extra,
    )


def make_shop(name: str, *, credits: int = 10) -> Shop:
    account = AccountFactory(name=name, credits=credits)
    username, password = f"{name}-user", f"pw-{name}-123"
    dashboard_user_create(account=account, username=username, password=password)
    api_key, _ = api_key_create(account=account, name=f"{name}-key")
    product, _ = product_upsert(
        account=account,
        external_id=f"{name}-tee",
        mode="catalog",
        fields=ProductInput(title=f"{name} tee", images=(ImageInput(url=f"https://{name}.example/t.jpg"),)),
    )
    upload = customer_image_create(
        account=account, data=jpeg_bytes(width=300, height=400), crop=False, customer_id=f"{name}-shopper"
    )
    generation = completed_generation(
        account=account,
        person=jpeg_bytes(),
        result=jpeg_bytes(color=(0, 200, 0)),
        upload=upload,
        external_id=f"{name}-tee",
        customer_id=f"{name}-shopper",
        product=product,
        product_snapshot=product_snapshot(product=product),
    )
    failed = Generation.objects.create(
        account=account,
        product_external_id=f"{name}-tee",
        status=GenerationStatus.FAILED,
        error_code="PERSON_NOT_DETECTED",
        error_message="no person",
        duration_ms=900,
        completed_at=timezone.now(),
    )
    watermark = watermark_settings_update(account=account, logo=half_logo())
    ledger_entry = credits_topup(account=account, amount=5, reason=f"{name} bonus")
    account.refresh_from_db()
    return Shop(
        account=account,
        username=username,
        password=password,
        api_key=api_key,
        product=product,
        upload=upload,
        generation=generation,
        failed=failed,
        watermark=watermark,
        ledger_entry=ledger_entry,
    )
