from __future__ import annotations

import pytest
from django.test import Client

from accounts.fetch_slots import fetch_slots_reset
from accounts.key_cache import api_key_cache_reset
from accounts.throttling import limiter, store_retry_reset
from tests.factories import AccountFactory, api_key_for
from tests.storage_fixtures import any_storage, moto_endpoint  # noqa: F401 - shared fixtures
from tryon_project.celery import app as celery_app

# Tasks sent by tests go to an in-memory broker, never to a shared Redis queue that a real worker might consume;
# the worker integration tests send to their own Redis queue explicitly.
celery_app.conf.broker_url = "memory://"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit windows live in Redis (or memory) outside the test database: start every test empty."""
    limiter().storage.reset()
    fetch_slots_reset()
    store_retry_reset()
    yield


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    """Authenticated keys are cached in process memory: no test sees another's entries or its paused store."""
    api_key_cache_reset()
    yield
    api_key_cache_reset()


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")


class ApiClient(Client):
    """A test client that sends the merchant's key and JSON by default."""

    def __init__(self, api_key: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.api_key = api_key

    def _base_environ(self, **request):
        environ = super()._base_environ(**request)
        if self.api_key is not None:
            environ.setdefault("HTTP_X_API_KEY", self.api_key)
        return environ

    def post_json(self, path: str, data: object, **extra):
        return self.post(path, data=data, content_type="application/json", **extra)


@pytest.fixture
def fake_engine():
    """Every engine name serves one recording fake for the test (swapped through the server's registry)."""
    from generations.engine_config import engine_registry
    from tests.generations.helpers import FakeEngine

    engine = FakeEngine()
    with engine_registry().override(name="*", engine=engine):
        yield engine


@pytest.fixture
def eager():
    """Run Celery tasks in-process, as soon as they are sent."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def account(db):
    return AccountFactory(credits=10)


@pytest.fixture
def api_key(account) -> str:
    return api_key_for(account)


@pytest.fixture
def api(api_key) -> ApiClient:
    return ApiClient(api_key)


@pytest.fixture
def anon() -> ApiClient:
    return ApiClient(None)


def postgres_only():
    """Concurrency claims are proven on PostgreSQL (SQLite's shared-cache test database serialises writers with
    'table is locked' errors instead of waiting)."""
    from django.db import connection

    return pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")
