"""The one error type outbound fetches raise."""

from __future__ import annotations

from typing import Literal

FetchErrorReason = Literal[
    "blocked_address",
    "bad_scheme",
    "bad_port",
    "credentials_in_url",
    "too_many_redirects",
    "timeout",
    "too_large",
    "http_status",
    "connection",
    "invalid_url",
]

# Messages reach API clients verbatim, so they never carry addresses, host names or URLs.
_MESSAGES: dict[str, str] = {
    "blocked_address": "The URL points to an address that may not be fetched.",
    "bad_scheme": "Only http and https URLs may be fetched.",
    "bad_port": "The URL uses a port that may not be fetched.",
    "credentials_in_url": "URLs with embedded credentials are not accepted.",
    "too_many_redirects": "The URL redirected too many times.",
    "timeout": "The remote server did not answer in time.",
    "too_large": "The remote resource is larger than allowed.",
    "connection": "The remote server could not be reached.",
    "invalid_url": "The URL is not valid.",
}


class FetchError(Exception):
    """A refused or failed outbound fetch; ``str(error)`` is safe to show to API clients."""

    def __init__(self, reason: FetchErrorReason, *, status: int | None = None) -> None:
        self.reason: FetchErrorReason = reason
        self.status: int | None = status
        if reason == "http_status":
            message = f"The remote server answered with HTTP status {status}."
        else:
            message = _MESSAGES[reason]
        super().__init__(message)
