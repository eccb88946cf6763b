"""The dashboard's product pages: scoped per merchant, thumbnails through signed URLs, deletion via the service."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.services import dashboard_user_create
from products.inputs import ImageInput, ProductInput
from products.models import Product, ProductImage
from products.services import product_upsert
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for
from tests.products.conftest import PRODUCTS, multipart
from tests.storage_fixtures import all_storage_keys

LIST = "/dashboard/products/product/"


@pytest.fixture
def shops(db):
    alpha, beta = AccountFactory(name="alpha-shop"), AccountFactory(name="beta-shop")
    dashboard_user_create(account=alpha, username="alice", password="pw-alice-123")
    dashboard_user_create(account=beta, username="bob", password="pw-bob-123")
    product_upsert(
        account=beta,
        external_id="beta-tee",
        mode="catalog",
        fields=ProductInput(title="Beta tee", images=(ImageInput(url="https://beta.example/t.jpg"),)),
    )
    return alpha, beta


def _login(username: str, password: str) -> Client:
    client = Client()
    assert client.login(username=username, password=password)
    return client


def test_merchant_sees_own_products_with_thumbnails(shops, jpeg):
    alpha, _ = shops
    api = ApiClient(api_key_for(alpha))
    api.post(
        PRODUCTS,
        data=multipart(
            {
                "externalId": "alpha-tee",
                "title": "Alpha tee",
                "images": [{"fileKey": "f"}, {"url": "https://alpha.example/b.jpg"}],
            },
            f=jpeg,
        ),
    )
    upload_key = ProductImage.objects.get(upload_key__isnull=False).upload_key
    alice = _login("alice", "pw-alice-123")
    html = alice.get(LIST).content.decode()
    assert "alpha-tee" in html and "beta-tee" not in html
    assert f"/files/{upload_key}?exp=" in html  # a signed URL of the stored bytes
    assert "https://alpha.example/b.jpg" in html
    beta_product = Product.objects.get(external_id="beta-tee")
    assert alice.get(f"{LIST}{quote(beta_product.pk)}/change/").status_code == 404
    own = Product.objects.get(external_id="alpha-tee")
    page = alice.get(f"{LIST}{quote(own.pk)}/change/")
    assert page.status_code == 200
    # Read-only: a POST changes nothing.
    alice.post(f"{LIST}{quote(own.pk)}/change/", {"title": "hacked"})
    assert Product.objects.get(pk=own.pk).title == "Alpha tee"


def test_merchant_deletes_through_the_service(shops, jpeg, django_capture_on_commit_callbacks):
    alpha, _ = shops
    with django_capture_on_commit_callbacks(execute=True):
        ApiClient(api_key_for(alpha)).post(
            PRODUCTS, data=multipart({"externalId": "alpha-tee", "images": [{"fileKey": "f"}]}, f=jpeg)
        )
    own = Product.objects.get(external_id="alpha-tee")
    beta_product = Product.objects.get(external_id="beta-tee")
    alice = _login("alice", "pw-alice-123")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            LIST, {"action": "delete_selected", "_selected_action": [own.pk, beta_product.pk], "post": "yes"}
        )
    assert response.status_code in (200, 302)
    assert list(Product.objects.values_list("external_id", flat=True)) == ["beta-tee"]
    assert all_storage_keys() == []


def test_operator_sees_every_account(shops):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    html = _login("root", "pw-root-123").get(LIST).content.decode()
    assert "beta-tee" in html and "beta-shop" in html
