"""How the dashboard shows values: yes/no as neutral words, times with their zone named, durations in words.

Django admin draws every boolean as a green tick or a red cross, which reads as an error for an ordinary "No"
("Expired ✖"). Pages use these helpers instead, so one value looks the same on every page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.html import format_html

from accounts.time_zones import time_zone_label

#: Day, month, year and 24-hour time, followed by the zone's name: unambiguous for shops in any country.
WHEN_FORMAT = "j M Y, H:i"
#: Badge tones: neutral by default; "good" and "bad" only where the value is an outcome the merchant acts on.
_TONES = ("neutral", "good", "bad", "info")


def badge(text: str, *, tone: str = "neutral", css_class: str = "") -> str:
    if tone not in _TONES:
        raise ValueError(f"unknown badge tone {tone!r}")
    return format_html(
        '<span class="dash-badge dash-badge-{}{}">{}</span>', tone, f" {css_class}" if css_class else "", text
    )


def yes_no(value: bool | None, *, yes: str = "Yes", no: str = "No") -> str:
    """A boolean as a word in a neutral badge (never a red cross)."""
    if value is None:
        return "—"
    return badge(yes if value else no)


def when(value: datetime | None) -> str:
    """A moment in the time zone active for this request (the account's, see accounts/middleware.py), with the
    zone named: "1 Dec 2026, 15:05 CET", or "1 Dec 2026, 18:05 Asia/Dubai" where the zone has no abbreviation."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{formats.date_format(local, WHEN_FORMAT)} {time_zone_label(local)}"


def in_words(delta: timedelta) -> str:
    """A rough span for lifetimes and expiries, to the nearest unit: "3 days", "5 hours", "12 minutes"."""
    seconds = abs(int(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def expiry_in_words(expires_at: datetime | None, *, now: datetime | None = None) -> str:
    """ "in 3 days (4 Dec 2026, 10:00 UTC)" or "expired 2 hours ago (…)"."""
    if expires_at is None:
        return "never"
    now = now or timezone.now()
    span = in_words(expires_at - now)
    if expires_at > now:
        return f"in {span} ({when(expires_at)})"
    return f"expired {span} ago ({when(expires_at)})"


def seconds(duration_ms: int | float | None) -> str:
    return f"{duration_ms / 1000:.1f} s" if duration_ms is not None else "—"
