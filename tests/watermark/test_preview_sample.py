"""The dashboard's watermark preview draws on a sample that the local engine made from the shipped sample photo
and t-shirt (`scripts/watermark_example.py`, run by `make gallery`), recorded beside it; not a hand-made picture."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from engines.base import Category, TryOnRequest, TryOnResult
from tests.watermark.images import opaque_logo
from watermark.compositing import watermark_composite

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "watermark" / "static" / "watermark" / "sample-result.jpg"
RECORD = SAMPLE.with_suffix(".json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _script():
    spec = importlib.util.spec_from_file_location("watermark_example", ROOT / "scripts" / "watermark_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sample_is_the_recorded_local_engine_run_on_the_shipped_photos():
    record = json.loads(RECORD.read_text())
    assert (record["engine"], record["category"]) == ("local", "tops")
    assert (record["person"], record["garment"]) == ("docs/samples/person.jpg", "docs/samples/tshirt.jpg")
    # The inputs are the files the project ships, as they are now ...
    assert record["person_sha256"] == _sha256(ROOT / record["person"])
    assert record["garment_sha256"] == _sha256(ROOT / record["garment"])
    # ... and the sample is byte for byte what that run wrote (an edited or swapped picture fails here).
    assert record["sample_sha256"] == _sha256(SAMPLE)
    with Image.open(SAMPLE) as sample:
        assert [sample.width, sample.height] == record["sample_size"]
        assert sample.format == "JPEG"
    # The preview serves this very file.
    assert Path(finders.find("watermark/sample-result.jpg")) == SAMPLE


def test_the_sample_was_made_by_the_current_local_engine_version():
    from engines.local import LocalEngine

    record = json.loads(RECORD.read_text())
    assert record["engine_version"] == LocalEngine.version, "the local engine changed: run `make gallery`"


def test_the_command_runs_the_local_engine_on_the_shipped_photos(monkeypatch):
    """The script's wiring, without a model: it hands the shipped bytes to the local engine and keeps its output."""
    import engines.local

    calls: list[TryOnRequest] = []
    painted = io.BytesIO()
    Image.new("RGB", (512, 600), (10, 120, 200)).save(painted, "JPEG", quality=95)

    class RecordingEngine:
        def run(self, request: TryOnRequest) -> TryOnResult:
            calls.append(request)
            return TryOnResult(image=painted.getvalue(), content_type="image/jpeg", engine="local", engine_version="9")

    monkeypatch.setattr(engines.local, "LocalEngine", RecordingEngine)
    sample, record = _script().sample_result()
    [request] = calls
    assert request.person_image == (ROOT / "docs" / "samples" / "person.jpg").read_bytes()
    assert request.garment_images == ((ROOT / "docs" / "samples" / "tshirt.jpg").read_bytes(),)
    assert request.category == Category.TOPS
    with Image.open(io.BytesIO(sample)) as image:
        assert image.size == (480, 562)  # the engine's 512 x 600, downscaled to the preview's width
        assert image.getpixel((240, 281)) == pytest.approx((10, 120, 200), abs=4)
    assert (record["engine"], record["engine_version"]) == ("local", "9")
    assert record["sample_sha256"] == hashlib.sha256(sample).hexdigest()


def test_the_preview_page_names_the_sample_and_draws_the_logo_on_it(db, settings):
    from tests.dashboard.helpers import make_shop

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    shop = make_shop("sample")
    client = shop.login()
    record = json.loads(RECORD.read_text())
    page = client.get(f"/dashboard/watermark/watermarksettings/{shop.watermark.pk}/change/").content.decode()
    assert 'id="watermark-sample-source"' in page
    assert f"<code>local</code> engine (version {record['engine_version']})" in page
    url = f"/dashboard/watermark/watermarksettings/{shop.watermark.pk}/preview/"
    form = {"enabled": "on", "position": "bottom-left", "size_pct": 30, "opacity_pct": 90, "margin_pct": 4}
    logo = opaque_logo()
    drawn = client.post(url, {**form, "logo": SimpleUploadedFile("l.png", logo, content_type="image/png")})
    assert drawn.status_code == 200 and drawn["Content-Type"] == "image/jpeg"
    expected = watermark_composite(
        image=SAMPLE.read_bytes(), logo=logo, position="bottom-left", size_pct=30, opacity_pct=90, margin_pct=4
    )
    assert drawn.content == expected
    # Switched off, the preview is the sample itself, untouched.
    assert client.post(url, {**form, "enabled": ""}).content == SAMPLE.read_bytes()
