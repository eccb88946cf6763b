import pytest
from django.contrib.admin.utils import quote
from django.test import Client

from accounts.models import ApiKey
from accounts.services import api_key_create, dashboard_user_create
from tests.factories import AccountFactory


@pytest.fixture
def two_merchants(db):
    first, second = AccountFactory(name="alpha-shop"), AccountFactory(name="beta-shop")
    dashboard_user_create(account=first, username="alice", password="pw-alice-123")
    dashboard_user_create(account=second, username="bob", password="pw-bob-123")
    key_a, _ = api_key_create(account=first, name="alpha-key")
    key_b, _ = api_key_create(account=second, name="beta-key")
    return first, second, key_a, key_b


def _login(username: str, password: str) -> Client:
    client = Client()
    assert client.login(username=username, password=password)
    return client


def test_merchant_sees_only_own_account(two_merchants):
    first, second, key_a, _ = two_merchants
    bob = _login("bob", "pw-bob-123")
    listing = bob.get("/dashboard/accounts/account/").content.decode()
    assert "beta-shop" in listing and "alpha-shop" not in listing
    keys = bob.get("/dashboard/accounts/apikey/").content.decode()
    assert "beta-key" in keys and "alpha-key" not in keys
    assert bob.get(f"/dashboard/accounts/account/{quote(first.pk)}/change/").status_code == 404
    assert bob.get(f"/dashboard/accounts/apikey/{quote(key_a.pk)}/change/").status_code == 404
    assert bob.get(f"/dashboard/accounts/account/{quote(second.pk)}/change/").status_code == 200


def test_merchant_cannot_reach_staff_pages_or_change_balance(two_merchants):
    _, second, _, _ = two_merchants
    bob = _login("bob", "pw-bob-123")
    assert bob.get("/dashboard/accounts/accountmembership/").status_code == 403
    assert bob.get("/dashboard/auth/user/").status_code == 403
    bob.post(
        f"/dashboard/accounts/account/{quote(second.pk)}/change/",
        {"customer_retention_days": 3, "time_zone": "UTC", "credit_balance": 99999},
    )
    second.refresh_from_db()
    assert second.credit_balance == 0
    assert second.customer_retention_days == 3


def test_merchant_creates_key_shown_once(two_merchants):
    _, second, _, _ = two_merchants
    bob = _login("bob", "pw-bob-123")
    response = bob.post("/dashboard/accounts/apikey/add/", {"name": "ci"}, follow=True)
    html = response.content.decode()
    assert "new-api-key" in html
    created = ApiKey.objects.get(name="ci")
    assert created.account == second
    again = bob.get(f"/dashboard/accounts/apikey/{quote(created.pk)}/change/").content.decode()
    assert "new-api-key" not in again


def test_staff_sees_every_account(two_merchants):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(username="op", password="pw-op-1234", email="")
    op = _login("op", "pw-op-1234")
    listing = op.get("/dashboard/accounts/account/").content.decode()
    assert "alpha-shop" in listing and "beta-shop" in listing
