"""The documentation is checked against the code: the errors catalogue is regenerated and compared, the sample
images are what the docs promise, and the full integration example runs against a real server."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from PIL import Image

from accounts.models import Account
from accounts.services import account_create, api_key_create
from generations.models import Generation
from tryon_project.management.commands import errors_doc
from tryon_project.storage import blob_read

ROOT = Path(settings.BASE_DIR)
EXAMPLE = ROOT / "docs" / "examples" / "full_example.py"
SAMPLES = ROOT / "docs" / "samples"


def test_errors_doc_is_current():
    call_command("errors_doc", "--check")


def test_errors_doc_check_fails_when_stale_and_write_fixes_it(tmp_path, monkeypatch, settings):
    stale = tmp_path / "errors.md"
    stale.write_text("# Error codes\n")
    monkeypatch.setattr(errors_doc, "DOC_PATH", stale)
    settings.BASE_DIR = tmp_path  # the command names the file relative to it
    with pytest.raises(CommandError, match="out of date"):
        call_command("errors_doc", "--check")
    call_command("errors_doc")
    call_command("errors_doc", "--check")
    text = stale.read_text()
    assert "| `INSUFFICIENT_CREDITS` | 402 |" in text
    assert "| `CUSTOMER_DATA_DELETED` |" in text


@pytest.mark.parametrize("name", ["person.jpg", "tshirt.jpg"])
def test_sample_images_are_small_jpegs(name):
    data = (SAMPLES / name).read_bytes()
    assert len(data) < 100 * 1024
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert min(image.size) >= 256


@pytest.fixture
def eager_celery():
    """Generations run inside the live server's request thread as soon as they are enqueued after commit."""
    from tryon_project.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.mark.django_db(transaction=True)
def test_full_example_runs_end_to_end(live_server, settings, tmp_path, eager_celery):
    # Signed local-file URLs must point at the server the script talks to.
    settings.PUBLIC_BASE_URL = live_server.url
    account = account_create(name="docs-example", credits=5)
    _, api_key = api_key_create(account=account, name="docs")
    output = tmp_path / "result.jpg"
    env = {
        **os.environ,
        "TRYON_BASE_URL": f"{live_server.url}/tryon/v1",
        "TRYON_API_KEY": api_key,
        "TRYON_OUTPUT": str(output),
        "TRYON_POLL_INTERVAL": "0.2",
        "TRYON_TIMEOUT": "120",
        # A proxy configured on the machine would not reach the test server.
        "NO_PROXY": "*",
        "no_proxy": "*",
    }

    completed = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "PRODUCT_NOT_FOUND: sending the full product" in completed.stdout
    generation = Generation.objects.get(account=account)
    assert generation.status == "COMPLETED"
    # The real default engine rendered it, on the bundled samples: not the mock, which returns the photo as is.
    assert generation.timings["engine"] == settings.TRYON_ENGINE == "local"
    assert generation.product_snapshot["title"] == "Blue T-shirt"
    assert generation.customer_id == "shopper-42"
    assert Account.objects.get(pk=account.pk).credit_balance == 4
    with Image.open(output) as result:
        result.load()
        assert result.format == "JPEG"
        result_pixels = np.asarray(result.convert("RGB"), dtype=np.int16)
    with Image.open(io.BytesIO(blob_read(key=generation.person_image_key))) as person:
        person_pixels = np.asarray(person.convert("RGB"), dtype=np.int16)
    assert result_pixels.shape == person_pixels.shape
    # The garment covers a real part of the picture (the blue shirt over a dark uniform).
    changed = np.abs(result_pixels - person_pixels).max(axis=2) > 40
    assert changed.mean() > 0.1
