"""Which URLs and addresses outbound fetches may reach (docs/security.md "Outbound URL fetches").

Every check works on *resolved* addresses: the resolver turns odd spellings such as ``2130706433``,
``0x7f000001``, ``0177.0.0.1`` or ``127.1`` into ``127.0.0.1``, so validating the host string alone would be
bypassable.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from urllib3.util.connection import allowed_gai_family

from .errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Instance-metadata endpoints hand out cloud credentials. They stay closed even when an allow-listed range
# covers them, so allowing a VPC or link-local range for a sidecar never exposes them.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server; a public address, so no range rule catches it
    )
)

# Ranges the stdlib flags miss or classify as global although they reach non-public hosts.
_EXTRA_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # shared address space (carrier-grade NAT); is_private is False for it
        "192.0.0.0/24",  # IETF protocol assignments; only partly private in older CPython
        "192.88.99.0/24",  # 6to4 relay anycast
        "64:ff9b:1::/48",  # local-use NAT64: where it translates to is site-specific
        "5f00::/16",  # SRv6 segment identifiers
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A URL that passed every check, with the one address the connection must go to."""

    host: str
    port: int
    address: IPAddress


def resolve(*, host: str, port: int) -> list[IPAddress]:
    """Resolve ``host`` once; the fetcher connects only to what this returned."""
    try:
        infos = socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)
    except UnicodeError:
        raise FetchError("invalid_url") from None
    except OSError:
        raise FetchError("connection") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


def allowed_networks() -> list[IPNetwork]:
    try:
        return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in settings.TRYON_FETCH_ALLOW_NETWORKS]
    except ValueError as exc:
        raise ImproperlyConfigured("TRYON_FETCH_ALLOW_NETWORKS must be a list of CIDRs") from exc


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    embedded: list[ipaddress.IPv4Address] = []
    if ip.sixtofour is not None:
        embedded.append(ip.sixtofour)
    if ip.teredo is not None:
        embedded.extend(ip.teredo)  # (server, client); the client is already de-obfuscated
    return embedded


def _unicast_public(ip: IPAddress) -> bool:
    if (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in net for net in _EXTRA_BLOCKED)
    ):
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is a public unicast address (ignoring the allow-list)."""
    if ip in METADATA_ADDRESSES:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # Mapped and NAT64 forms reach exactly the IPv4 address inside them; the stdlib flags the IPv6 wrapper
        # itself as reserved, so judge the inner address alone.
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if not all(is_public_address(inner) for inner in _embedded_ipv4(ip)):
            return False
    return _unicast_public(ip)


def is_allowed_address(ip: IPAddress, *, allow: list[IPNetwork]) -> bool:
    if ip in METADATA_ADDRESSES:
        return False
    if any(ip.version == net.version and ip in net for net in allow):
        return True
    return is_public_address(ip)


def check_url(*, url: str) -> tuple[str, int]:
    """Scheme, credential and port rules that need no network; returns (host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError("invalid_url") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise FetchError("bad_scheme" if scheme else "invalid_url")
    if "@" in parts.netloc:
        raise FetchError("credentials_in_url")
    host = parts.hostname
    if not host:
        raise FetchError("invalid_url")
    port = port if port is not None else _DEFAULT_PORTS[scheme]
    if port not in settings.TRYON_FETCH_ALLOWED_PORTS:
        raise FetchError("bad_port")
    return host, port


def check_target(*, url: str) -> Target:
    """Apply every rule to ``url`` and pick the validated address to connect to."""
    host, port = check_url(url=url)
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = resolve(host=host, port=port)
    if not addresses:
        raise FetchError("connection")
    allow = allowed_networks()
    # Every answer must pass, not just the first: a name mixing public and private answers is refused outright
    # rather than trusting which one a later lookup would prefer.
    if not all(is_allowed_address(ip, allow=allow) for ip in addresses):
        raise FetchError("blocked_address")
    return Target(host=host, port=port, address=addresses[0])
