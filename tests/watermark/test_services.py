"""Watermark settings are written through the service; applying them leaves results alone when nothing is drawn."""

from __future__ import annotations

import logging

import pytest

from tests.factories import AccountFactory
from tests.storage_fixtures import all_storage_keys
from tests.watermark.images import GREY, RED, close, half_logo, opaque_logo, pixel, solid
from tryon_project.storage import blob_delete, blob_read
from watermark.models import WatermarkSettings
from watermark.services import WatermarkSettingsError, watermark_apply_for_account, watermark_settings_update


def test_first_update_creates_settings_with_normalised_logo(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = watermark_settings_update(
            account=account,
            logo=half_logo(image_format="WEBP"),
            position="top-left",
            size_pct=30,
            opacity_pct=70,
            margin_pct=2,
        )
    assert WatermarkSettings.objects.filter(account=account).count() == 1
    assert (row.enabled, row.position, row.size_pct, row.opacity_pct, row.margin_pct) == (True, "top-left", 30, 70, 2)
    assert (row.logo_width, row.logo_height) == (200, 100)
    stored = blob_read(key=row.logo_key)
    assert stored.startswith(b"\x89PNG")  # the one image path re-encodes logos as RGBA PNG
    assert row.logo_key.startswith("watermark/")


def test_replacing_the_logo_deletes_the_old_object_after_commit(account, django_capture_on_commit_callbacks):
    first = watermark_settings_update(account=account, logo=half_logo())
    old_key = first.logo_key
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = watermark_settings_update(account=account, logo=opaque_logo())
    assert len(callbacks) == 1
    assert second.pk == first.pk and second.logo_key != old_key
    assert set(all_storage_keys()) == {second.logo_key}


def test_remove_logo_and_partial_update_keep_other_fields(account, django_capture_on_commit_callbacks):
    watermark_settings_update(account=account, logo=half_logo(), position="center", size_pct=40)
    with django_capture_on_commit_callbacks(execute=True):
        row = watermark_settings_update(account=account, remove_logo=True)
    assert (row.logo_key, row.logo_width, row.position, row.size_pct) == ("", None, "center", 40)
    assert set(all_storage_keys()) == set()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"logo": solid(image_format="JPEG")}, "PNG or WebP"),
        ({"logo": b"<svg xmlns='http://www.w3.org/2000/svg'/>"}, "not a JPEG, PNG, WebP or HEIC"),
        ({"logo": half_logo(size=(200, 20))}, "at least 64"),
        ({"position": "middle"}, "Unknown position"),
        ({"size_pct": 0}, "size_pct"),
        ({"opacity_pct": 101}, "opacity_pct"),
        ({"margin_pct": 30}, "margin_pct"),
    ],
)
def test_refusals_write_nothing(account, kwargs, message):
    with pytest.raises(WatermarkSettingsError, match=message):
        watermark_settings_update(account=account, **kwargs)
    assert not WatermarkSettings.objects.exists()
    assert set(all_storage_keys()) == set()


def test_nothing_to_draw_returns_the_same_bytes(account):
    image = solid(image_format="JPEG")
    assert watermark_apply_for_account(account=account, image=image) is image  # no settings at all
    watermark_settings_update(account=account, enabled=True)
    assert watermark_apply_for_account(account=account, image=image) is image  # no logo
    watermark_settings_update(account=account, logo=opaque_logo(), enabled=False)
    assert watermark_apply_for_account(account=account, image=image) is image  # disabled
    watermark_settings_update(account=account, enabled=True, opacity_pct=0)
    assert watermark_apply_for_account(account=account, image=image) is image  # fully transparent


def test_applies_the_accounts_own_logo_only(account):
    other = AccountFactory()
    watermark_settings_update(
        account=other, logo=opaque_logo(), position="top-left", size_pct=50, opacity_pct=100, margin_pct=0
    )
    watermark_settings_update(
        account=account, logo=opaque_logo(), position="bottom-right", size_pct=25, opacity_pct=100, margin_pct=5
    )
    out = watermark_apply_for_account(account=account, image=solid())
    assert close(pixel(out, (330, 255)), RED, tolerance=1)
    assert pixel(out, (10, 10)) == GREY  # where the other account's logo would be


def test_missing_logo_object_leaves_the_result_alone(account, caplog):
    row = watermark_settings_update(account=account, logo=opaque_logo())
    blob_delete(key=row.logo_key)
    image = solid()
    with caplog.at_level(logging.WARNING, logger="tryon.watermark"):
        assert watermark_apply_for_account(account=account, image=image) is image
    assert "logo object is missing" in caplog.text
