"""Real Celery worker processes against the real Redis broker and PostgreSQL: a SIGKILL mid-generation, and a
broker that is down when the try-on is accepted."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from accounts.models import Account, CreditLedgerEntry
from generations.models import Generation
from generations.tasks import generation_run
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for
from tests.images import jpeg_bytes
from tests.storage_fixtures import all_storage_keys

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (settings.REDIS_URL and connection.vendor == "postgresql"),
        reason="needs the production stack: PostgreSQL and Redis",
    ),
]
ROOT = Path(__file__).resolve().parents[2]


def _worker(*, queue: str, media_root: str, tmp_path: Path, engine_seconds: float, marker: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "MEDIA_ROOT": media_root,
        "SECRET_KEY": settings.SECRET_KEY,
        "TRYON_VAR_DIR": str(tmp_path / "var"),
        "TRYON_EXTRA_ENGINES": "slow=tests.generations.slow_engine.SlowEngine",
        "SLOW_ENGINE_SECONDS": str(engine_seconds),
        "SLOW_ENGINE_MARKER": str(marker),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tryon_project",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / f"worker-{queue}-{time.monotonic_ns()}.log").open("w"),
    )


def _send(generation_id: str, queue: str) -> None:
    with Connection(settings.REDIS_URL) as broker:
        generation_run.apply_async(args=[generation_id], queue=queue, connection=broker)


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _accepted_generation() -> tuple[Account, str]:
    account = AccountFactory(credits=3, engine="slow")
    client = ApiClient(api_key_for(account))
    photo = io.BytesIO(jpeg_bytes(width=600, height=750))
    photo.name = "me.jpg"
    image_id = client.post("/tryon/v1/images/upload", {"file": photo, "crop": "false"}).json()["imageId"]
    garment = io.BytesIO(jpeg_bytes(color=(10, 10, 200)))
    garment.name = "g.jpg"
    response = client.post(
        "/tryon/v1/try-on",
        {
            "data": json.dumps(
                {
                    "product": {"externalId": "tee", "title": "Tee", "images": [{"fileKey": "g"}]},
                    "customer": {"id": image_id},
                }
            ),
            "g": garment,
        },
    )
    assert response.status_code == 202, response.content
    return account, response.json()["generationId"]


def test_sigkill_mid_generation_then_another_worker_finishes(settings, tmp_path):
    account, generation_id = _accepted_generation()
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "started"
    first = _worker(queue=queue, media_root=settings.MEDIA_ROOT, tmp_path=tmp_path, engine_seconds=60, marker=marker)
    second = None
    try:
        _send(generation_id, queue)
        assert _wait(marker.exists, 60), "the first worker never started the generation"
        assert Generation.objects.get(id=generation_id).status == "PROCESSING"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        marker.unlink()
        second = _worker(
            queue=queue, media_root=settings.MEDIA_ROOT, tmp_path=tmp_path, engine_seconds=0, marker=marker
        )
        assert _wait(lambda: Generation.objects.get(id=generation_id).is_terminal, 90), "stuck generation"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    row = Generation.objects.get(id=generation_id)
    assert row.status == "COMPLETED"
    assert row.attempts == 2
    results = [key for key in all_storage_keys() if key.startswith("result/")]
    assert results == [row.result_key]  # exactly one result object
    ledger = list(CreditLedgerEntry.objects.filter(generation_ref=generation_id).values_list("kind", flat=True))
    assert ledger == ["reserve"]  # charged once, no refund
    assert Account.objects.get(pk=account.pk).credit_balance == 2


def test_broker_down_at_accept_then_reaper_gets_it_done(settings, tmp_path):
    from tryon_project.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.task_publish_retry = False
    app.conf.broker_connection_timeout = 1
    try:
        account, generation_id = _accepted_generation()
    finally:
        app.conf.broker_url = "memory://"
        app.conf.task_publish_retry = True
        app.pool.force_close_all()
    assert Generation.objects.get(id=generation_id).status == "PENDING"

    from generations.services import maintenance

    queue = f"reap-{uuid.uuid4().hex[:8]}"
    sent: list[str] = []
    settings.TRYON_REAPER_PENDING_AFTER_SECONDS = 0
    worker = _worker(
        queue=queue, media_root=settings.MEDIA_ROOT, tmp_path=tmp_path, engine_seconds=0, marker=tmp_path / "m"
    )
    try:

        def enqueue(*, generation_id: str) -> None:
            sent.append(generation_id)
            _send(generation_id, queue)

        original = maintenance.generation_enqueue
        maintenance.generation_enqueue = enqueue
        try:
            time.sleep(0.01)
            assert maintenance.generations_reap()["resent"] == 1
        finally:
            maintenance.generation_enqueue = original
        assert _wait(lambda: Generation.objects.get(id=generation_id).is_terminal, 60)
    finally:
        worker.kill()
        worker.wait(10)
    assert sent == [generation_id]
    assert Generation.objects.get(id=generation_id).status == "COMPLETED"
    assert Account.objects.get(pk=account.pk).credit_balance == 2
