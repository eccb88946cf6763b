"""The one safe URL fetcher (docs/security.md "Outbound URL fetches")."""

from .client import FetchResult, url_fetch, url_validate
from .errors import FetchError, FetchErrorReason

__all__ = ["FetchError", "FetchErrorReason", "FetchResult", "url_fetch", "url_validate"]
