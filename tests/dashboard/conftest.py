from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.dashboard.helpers import Shop, make_shop


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher is deliberately slow; these tests create and log in several users each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alpha(db) -> Shop:
    return make_shop("alpha")


@pytest.fixture
def beta(db) -> Shop:
    return make_shop("beta")


@pytest.fixture
def operator(db) -> Client:
    get_user_model().objects.create_superuser(username="operator", password="pw-operator-123", email="")
    client = Client()
    assert client.login(username="operator", password="pw-operator-123")
    return client
