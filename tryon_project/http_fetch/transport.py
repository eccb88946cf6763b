"""A requests adapter that connects only to an address validated beforehand.

requests-hardened (a dependency) solves the same problem, but its adapter resolves inside the connection path
and takes the first answer without an allow-list, logs the host name and address of refused requests (our
logs carry no URLs), and cannot be told which address was validated. So the fetcher resolves and validates
once itself, and this adapter borrows requests-hardened's technique: swap the pool's host for the validated
address, keep the ``Host`` header, and keep TLS SNI and certificate checks on the host name.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from .policy import Target


class PinMismatchError(requests.RequestException):
    """The adapter was asked for a host other than the validated one."""


class PinnedAddressAdapter(HTTPAdapter):
    def __init__(self, *, target: Target) -> None:
        super().__init__(max_retries=0)
        self._target = target

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str | None, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host = (host_params["host"] or "").lower()
        port = host_params["port"] or (443 if host_params["scheme"] == "https" else 80)
        # Refusing rather than connecting keeps a future caller mistake from reaching an unchecked host.
        if host != self._target.host.lower() or port != self._target.port:
            raise PinMismatchError("request does not match the validated target")
        address = self._target.address
        host_params["host"] = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
        if host_params["scheme"] == "https":
            # Without these urllib3 would send the IP as SNI and match the certificate against the IP.
            pool_kwargs["server_hostname"] = self._target.host
            pool_kwargs["assert_hostname"] = self._target.host
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # A proxy would do its own DNS lookup and defeat the pin, whatever the session was configured with.
        kwargs["proxies"] = {}
        return super().send(request, **kwargs)
