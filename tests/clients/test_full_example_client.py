"""docs/examples/full_example_client.py, the client's twin of full_example.py (run by tests/docs), runs end to end
against a real server: the 404 path, the inline product with its photo, wait_for, the download."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from accounts.models import Account
from accounts.services import account_create, api_key_create
from generations.models import Generation
from tryon_project.storage import blob_read

EXAMPLE = Path(settings.BASE_DIR) / "docs" / "examples" / "full_example_client.py"


@pytest.mark.django_db(transaction=True)
def test_full_example_client_runs_end_to_end(api_base, settings, tmp_path, eager_celery):
    run_dir = tmp_path / "run"  # tmp_path itself holds the server's media files
    run_dir.mkdir()
    account = account_create(name="docs-example-client", credits=5)
    _, api_key = api_key_create(account=account, name="docs")
    env = {
        **os.environ,
        "TRYON_BASE_URL": api_base,
        "TRYON_API_KEY": api_key,
        "TRYON_POLL_INTERVAL": "0.2",
        "TRYON_TIMEOUT": "120",
        # A proxy configured on the machine would not reach the test server.
        "NO_PROXY": "*",
        "no_proxy": "*",
    }
    env.pop("TRYON_OUTPUT", None)

    completed = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, cwd=run_dir, capture_output=True, text=True, timeout=240
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "PRODUCT_NOT_FOUND: sending the full product" in completed.stdout
    generation = Generation.objects.get(account=account)
    assert f"{generation.pk}: COMPLETED" in completed.stdout
    # The real default engine rendered it: not the mock, which returns the photo as is.
    assert generation.timings["engine"] == settings.TRYON_ENGINE == "local"
    assert generation.product_snapshot["title"] == "Blue T-shirt"
    assert generation.customer_id == "shopper-42"
    assert Account.objects.get(pk=account.pk).credit_balance == 4
    # Its own default output name: the other example's and the quickstart's files are not written.
    assert sorted(p.name for p in run_dir.iterdir()) == ["full-example-client-result.jpg"]
    with Image.open(run_dir / "full-example-client-result.jpg") as result:
        result.load()
        assert result.format == "JPEG"
        result_pixels = np.asarray(result.convert("RGB"), dtype=np.int16)
    with Image.open(io.BytesIO(blob_read(key=generation.person_image_key))) as person:
        person_pixels = np.asarray(person.convert("RGB"), dtype=np.int16)
    assert result_pixels.shape == person_pixels.shape
    changed = np.abs(result_pixels - person_pixels).max(axis=2) > 40
    assert changed.mean() > 0.1


@pytest.mark.django_db(transaction=True)
def test_full_example_client_out_of_credits_exits_2_and_creates_nothing(api_base, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    account = account_create(name="docs-example-client-broke", credits=0)
    _, api_key = api_key_create(account=account, name="docs")
    env = {**os.environ, "TRYON_BASE_URL": api_base, "TRYON_API_KEY": api_key, "NO_PROXY": "*", "no_proxy": "*"}

    completed = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, cwd=run_dir, capture_output=True, text=True, timeout=240
    )

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Out of credits: nothing was created or charged." in completed.stderr
    assert not Generation.objects.filter(account=account).exists()
    assert list(run_dir.iterdir()) == []
