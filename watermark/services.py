"""Writes for watermark settings, and applying an account's watermark to a result."""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.db import transaction

from accounts.models import Account
from tryon_project.images import ImageRejected, NormalizedImage, image_normalize
from tryon_project.storage import blob_delete, blob_read, blob_save
from watermark.compositing import watermark_composite
from watermark.models import MARGIN_PCT_RANGE, OPACITY_PCT_RANGE, SIZE_PCT_RANGE, WatermarkPosition, WatermarkSettings
from watermark.selectors import watermark_settings_active

logger = logging.getLogger("tryon.watermark")

_LOGO_FORMATS = ("PNG", "WEBP")


class WatermarkSettingsError(ValueError):
    """A logo or a setting the dashboard (or another caller) must show back to the user."""


def watermark_logo_normalize(*, data: bytes) -> NormalizedImage:
    """Validate a logo through the one image path, keeping its alpha channel (the result is an RGBA PNG)."""
    try:
        logo = image_normalize(data=data, max_long_side=settings.TRYON_WATERMARK_LOGO_MAX_SIDE, keep_alpha=True)
    except ImageRejected as exc:
        raise WatermarkSettingsError(exc.message) from exc
    if logo.format not in _LOGO_FORMATS:
        # JPEG and HEIC logos have no transparency: they would be drawn as an opaque rectangle.
        raise WatermarkSettingsError("The logo must be a PNG or WebP image (with transparency).")
    return logo


def _check_range(name: str, value: int | None, bounds: tuple[int, int]) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise WatermarkSettingsError(f"{name} must be between {bounds[0]} and {bounds[1]}.")


def watermark_settings_update(
    *,
    account: Account,
    logo: bytes | None = None,
    remove_logo: bool = False,
    enabled: bool | None = None,
    position: str | None = None,
    size_pct: int | None = None,
    opacity_pct: int | None = None,
    margin_pct: int | None = None,
    updated_by=None,
) -> WatermarkSettings:
    """Create or change the account's settings; arguments left as None keep their value. A new logo replaces
    the stored one, whose object is deleted once the change is committed."""
    if position is not None and position not in WatermarkPosition.values:
        raise WatermarkSettingsError(f"Unknown position {position!r}.")
    _check_range("size_pct", size_pct, SIZE_PCT_RANGE)
    _check_range("opacity_pct", opacity_pct, OPACITY_PCT_RANGE)
    _check_range("margin_pct", margin_pct, MARGIN_PCT_RANGE)
    normalized = watermark_logo_normalize(data=logo) if logo is not None else None
    new_key = blob_save(kind="watermark", data=normalized.data, content_type="image/png") if normalized else ""
    try:
        with transaction.atomic():
            row, _ = WatermarkSettings.objects.select_for_update().get_or_create(account=account)
            old_key = row.logo_key
            if normalized is not None:
                row.logo_key, row.logo_width, row.logo_height = new_key, normalized.width, normalized.height
            elif remove_logo:
                row.logo_key, row.logo_width, row.logo_height = "", None, None
            for field, value in (
                ("enabled", enabled),
                ("position", position),
                ("size_pct", size_pct),
                ("opacity_pct", opacity_pct),
                ("margin_pct", margin_pct),
            ):
                if value is not None:
                    setattr(row, field, value)
            row.updated_by = updated_by
            row.save()
            if old_key and old_key != row.logo_key:
                transaction.on_commit(lambda: blob_delete(key=old_key))
    except Exception:
        # The row never pointed at the new object: remove it rather than leave an orphan in storage.
        if new_key:
            blob_delete(key=new_key)
        raise
    return row


@lru_cache(maxsize=16)
def _logo_bytes(key: str) -> bytes:
    # Logo keys are never reused (a new upload gets a new random key), so a cached copy cannot go stale; it saves
    # one storage read per generation.
    return blob_read(key=key)


def watermark_apply_for_account(*, account: Account, image: bytes) -> bytes:
    """``image`` with the account's logo drawn on it; the very same bytes when there is nothing to draw."""
    config = watermark_settings_active(account=account)
    if config is None:
        return image
    try:
        logo = _logo_bytes(config.logo_key)
    except (FileNotFoundError, OSError):
        # A lost logo object must not fail the shopper's try-on; the merchant sees the warning in the logs and a
        # missing logo in the dashboard preview.
        logger.warning("watermark logo object is missing; result stored without a watermark")
        return image
    return watermark_composite(
        image=image,
        logo=logo,
        position=config.position,
        size_pct=config.size_pct,
        opacity_pct=config.opacity_pct,
        margin_pct=config.margin_pct,
    )
