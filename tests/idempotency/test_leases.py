"""A key whose request died is taken over once its lease lapses; a live one answers 409 at once, kept alive by its
heartbeat however long it runs."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Account
from generations.models import Generation
from tests.conftest import ApiClient, postgres_only
from tests.factories import AccountFactory, api_key_for
from tests.images import jpeg_bytes
from tryon_project.api.idempotency import request_fingerprint
from tryon_project.models import IdempotencyRecord

ROOT = Path(__file__).resolve().parents[2]
TRYON = "/tryon/v1/try-on"


def _upload(client: ApiClient) -> str:
    buffer = io.BytesIO(jpeg_bytes())
    buffer.name = "p.jpg"
    return client.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false"}).json()["imageId"]


def _body(image_id: str) -> bytes:
    return json.dumps(
        {
            "product": {"externalId": "tee", "title": "Tee", "images": [{"url": "https://cdn.example/tee.jpg"}]},
            "customer": {"id": image_id},
        }
    ).encode()


def _fingerprint(body: bytes) -> str:
    raw = RequestFactory().post(TRYON, data=body, content_type="application/json")
    raw.content_type = "application/json"
    return request_fingerprint(raw)


def _post(client: ApiClient, body: bytes, key: str):
    return client.post(TRYON, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _dead_record(account, key: str, body: bytes, *, seconds_ago: float) -> IdempotencyRecord:
    """What a process killed mid-request leaves: an incomplete record whose lease was last renewed `seconds_ago`."""
    record = IdempotencyRecord.objects.create(account=account, key=key, fingerprint=_fingerprint(body))
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(seconds=seconds_ago))
    return record


def test_a_lapsed_lease_is_taken_over_and_the_request_runs(api, account, settings):
    settings.TRYON_IDEMPOTENCY_LEASE_SECONDS = 30
    body = _body(_upload(api))
    record = _dead_record(account, "crashed", body, seconds_ago=31)
    response = _post(api, body, "crashed")
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    assert Generation.objects.count() == 1
    record.refresh_from_db()
    assert record.completed and record.response_status == 202
    assert record.response_body == response.json()
    replay = _post(api, body, "crashed")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert Generation.objects.count() == 1
    assert Account.objects.get(pk=account.pk).credit_balance == 9


def test_a_live_lease_answers_409_at_once(api, account, settings):
    settings.TRYON_IDEMPOTENCY_LEASE_SECONDS = 30
    body = _body(_upload(api))
    _dead_record(account, "alive", body, seconds_ago=29)
    started = time.monotonic()
    response = _post(api, body, "alive")
    assert time.monotonic() - started < 0.5
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert response["Retry-After"] == "1"
    assert Generation.objects.count() == 0
    assert IdempotencyRecord.objects.get(key="alive").completed is False


def test_a_lapsed_lease_is_not_taken_over_with_another_body(api, account, settings):
    settings.TRYON_IDEMPOTENCY_LEASE_SECONDS = 30
    image_id = _upload(api)
    _dead_record(account, "crashed", _body(image_id), seconds_ago=120)
    other = json.loads(_body(image_id))
    other["product"]["title"] = "Other"
    response = _post(api, json.dumps(other).encode(), "crashed")
    assert response.status_code == 422
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert Generation.objects.count() == 0


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_ten_retries_of_a_dead_request_one_takes_over(settings):
    settings.TRYON_IDEMPOTENCY_LEASE_SECONDS = 5
    account = AccountFactory(credits=5)
    key = api_key_for(account)
    body = _body(_upload(ApiClient(key)))
    _dead_record(account, "dead", body, seconds_ago=60)
    barrier = threading.Barrier(10)
    results: list[tuple[int, str | None]] = []

    def retry() -> None:
        client = ApiClient(key)
        barrier.wait()
        response = _post(client, body, "dead")
        results.append((response.status_code, response.get("Idempotent-Replayed")))
        connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Exactly one retry owns the record and runs; the rest see it in flight (409) or finished (replay).
    assert len([r for r in results if r == (202, None)]) == 1
    assert Counter(status for status, _ in results).keys() <= {202, 409}
    assert Generation.objects.count() == 1
    assert Account.objects.get(pk=account.pk).credit_balance == 4


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_long_request_alive(settings, monkeypatch):
    lease = 1.5
    settings.TRYON_IDEMPOTENCY_LEASE_SECONDS = lease
    account = AccountFactory(credits=5)
    key = api_key_for(account)
    body = _body(_upload(ApiClient(key)))
    import generations.apis as apis

    real, release = apis.generation_create, threading.Event()

    def slow(**kwargs):
        assert release.wait(30)
        return real(**kwargs)

    monkeypatch.setattr(apis, "generation_create", slow)
    first: list = []

    def run_first() -> None:
        first.append(_post(ApiClient(key), body, "long"))
        connections.close_all()

    thread = threading.Thread(target=run_first)
    thread.start()
    try:
        while not IdempotencyRecord.objects.filter(key="long").exists():
            time.sleep(0.02)
        # Twice the lease later the first request is still running: its heartbeat renewed the lease, so a
        # duplicate is refused at once rather than taking the record over.
        time.sleep(2 * lease)
        started = time.monotonic()
        duplicate = _post(ApiClient(key), body, "long")
        elapsed = time.monotonic() - started
        assert duplicate.status_code == 409, duplicate.content
        assert duplicate["Retry-After"] == "1"
        assert elapsed < 0.5
    finally:
        release.set()
        thread.join()
    assert first[0].status_code == 202
    replay = _post(ApiClient(key), body, "long")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first[0].json()
    assert Generation.objects.count() == 1


_CRASHING_CLIENT = textwrap.dedent(
    """
    import sys, threading
    import django
    django.setup()
    import generations.apis as apis
    from django.test import Client

    def hang(**kwargs):
        threading.Event().wait()  # the process is killed here, mid-request, record in flight

    apis.generation_create = hang
    Client().post(sys.argv[1], data=sys.argv[2], content_type="application/json",
                  HTTP_X_API_KEY=sys.argv[3], HTTP_IDEMPOTENCY_KEY="crash-key")
    """
)


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_a_process_killed_mid_request_does_not_block_its_key(settings, tmp_path):
    lease = 2.0
    settings.TRYON_IDEMPOTENCY_LEASE_SECONDS = lease
    account = AccountFactory(credits=5)
    key = api_key_for(account)
    body = _body(_upload(ApiClient(key)))
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tryon_project.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "TRYON_IDEMPOTENCY_LEASE_SECONDS": str(lease),
        "REDIS_URL": "",
        "TRYON_RATE_LIMIT_STORAGE": "memory://",
    }
    process = subprocess.Popen([sys.executable, "-c", _CRASHING_CLIENT, TRYON, body.decode(), key], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not IdempotencyRecord.objects.filter(key="crash-key").exists():
            assert process.poll() is None and time.monotonic() < deadline, "the client never got its record in"
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    killed_at = time.monotonic()
    # Right after the crash the lease still runs: 409 at once.
    assert _post(ApiClient(key), body, "crash-key").status_code == 409
    while time.monotonic() - killed_at < lease + 0.2:
        time.sleep(0.1)
    retry = _post(ApiClient(key), body, "crash-key")
    assert retry.status_code == 202, retry.content
    assert "Idempotent-Replayed" not in retry
    assert Generation.objects.count() == 1
    assert Account.objects.get(pk=account.pk).credit_balance == 4
    assert IdempotencyRecord.objects.get(key="crash-key").completed
