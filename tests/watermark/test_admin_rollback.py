"""A logo uploaded through the dashboard form whose save then fails (after the service stored it) is not left in
storage."""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.storage_fixtures import all_storage_keys
from tests.watermark.images import opaque_logo
from watermark.models import WatermarkSettings

FORM = {"enabled": "on", "position": "bottom-left", "size_pct": 30, "opacity_pct": 90, "margin_pct": 4}


@pytest.fixture
def shop(any_storage, db, settings):
    from tests.dashboard.helpers import make_shop

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return make_shop("logo")


def _change(shop):
    url = f"/dashboard/watermark/watermarksettings/{shop.watermark.pk}/change/"
    logo = SimpleUploadedFile("l.png", opaque_logo(), content_type="image/png")
    return shop.login().post(url, {**FORM, "logo": logo})


def _watermark_objects() -> list[str]:
    return [key for key in all_storage_keys() if key.startswith("watermark/")]


def test_a_logo_whose_change_log_fails_is_deleted(shop, monkeypatch):
    before = WatermarkSettings.objects.get(pk=shop.watermark.pk).logo_key
    model_admin = admin.site._registry[WatermarkSettings]

    def log_fails(*args, **kwargs):
        raise RuntimeError("the change log could not be written")

    monkeypatch.setattr(model_admin, "log_change", log_fails)
    with pytest.raises(RuntimeError):
        _change(shop)
    assert WatermarkSettings.objects.get(pk=shop.watermark.pk).logo_key == before
    assert _watermark_objects() == ([before] if before else [])


def test_a_saved_logo_stays(shop):
    before = WatermarkSettings.objects.get(pk=shop.watermark.pk).logo_key
    response = _change(shop)
    assert response.status_code == 302, response.content[:500]
    row = WatermarkSettings.objects.get(pk=shop.watermark.pk)
    # The replaced logo is deleted after commit (the test's transaction never commits), the new one is kept.
    assert row.logo_key and row.logo_key != before
    assert _watermark_objects() == sorted({row.logo_key, before} - {""})
