"""An account's time zone: an IANA name ("Europe/Paris"), checked against the zone database that zoneinfo reads
(the pinned tzdata package when the host has none), and how a dashboard names it next to a time."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime

from django.core.exceptions import ValidationError

DEFAULT_TIME_ZONE = "UTC"


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA name zoneinfo knows, sorted: the choices of the dashboard's time-zone field."""
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_validate(value: str) -> None:
    """A model and form validator: only a name of the IANA database (no file paths, no offsets like "+02")."""
    if value not in time_zone_names():
        raise ValidationError(
            "%(value)s is not an IANA time zone (for example Europe/Paris or America/New_York).",
            code="invalid_time_zone",
            params={"value": value},
        )


def time_zone_get(name: str) -> zoneinfo.ZoneInfo:
    """The zone of a stored name; a name the database no longer knows (a zone removed by a tzdata update) reads
    as UTC rather than breaking every page of the account."""
    try:
        return zoneinfo.ZoneInfo(name) if name in time_zone_names() else zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
    except zoneinfo.ZoneInfoNotFoundError:
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)


def time_zone_label(moment: datetime) -> str:
    """The zone of an aware local time in words: its abbreviation where the database has one ("CET", "EST",
    "UTC"), else the IANA name ("Asia/Dubai"), since a bare "+04" does not say which place it is."""
    abbreviation = moment.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return str(getattr(moment.tzinfo, "key", "") or abbreviation)
