"""``url_fetch`` and ``url_validate``: the one way the server reaches URLs supplied by customers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from django.db import connections

from . import policy
from .errors import FetchError
from .transport import PinMismatchError, PinnedAddressAdapter

logger = logging.getLogger(__name__)

_METHODS = frozenset({"GET", "HEAD", "POST"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024
# Headers that must not follow a redirect to another origin.
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
_DEFAULT_HEADERS = {
    "User-Agent": "tryon-server",
    # Compressed bodies would make the size cap count wire bytes while decoding could expand them without
    # bound; bodies are returned exactly as received.
    "Accept-Encoding": "identity",
}
# What requests' ``verify`` gets; tests point it at their own CA bundle.
_VERIFY: bool | str = True


@dataclass(frozen=True)
class FetchResult:
    status: int
    content: bytes
    content_type: str  # the declared media type, lowercased, without parameters; "" when absent
    final_url: str
    elapsed_ms: float


def url_validate(*, url: str) -> None:
    """Resolve ``url`` and apply every address rule without connecting; raises ``FetchError``."""
    try:
        policy.check_target(url=_prepare(method="GET", url=url, body=None, headers={}).url or "")
    except FetchError as exc:
        logger.info("outbound URL refused: %s", exc.reason)
        raise


def url_fetch(
    *,
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = True,
    max_bytes: int | None = None,
    accept_non_2xx: bool = False,
) -> FetchResult:
    """Fetch ``url`` under the outbound rules in docs/security.md; raises ``FetchError``.

    The calling thread's database connections are handed back first (see ``_connections_release``): call it
    outside any transaction, so a slow remote server never holds a database connection."""
    method = method.upper()
    if method not in _METHODS:
        raise ValueError(f"unsupported method {method}")
    _connections_release()
    started = time.monotonic()
    limit = settings.TRYON_FETCH_MAX_BYTES if max_bytes is None else max_bytes
    try:
        with requests.Session() as session:
            # Environment proxies (HTTP_PROXY and friends) and .netrc must never apply to customer URLs.
            session.trust_env = False
            session.proxies = {}
            status, content, content_type, final_url = _fetch(
                session=session,
                url=url,
                method=method,
                body=body,
                headers={**_DEFAULT_HEADERS, **(headers or {})},
                follow_redirects=follow_redirects,
                limit=limit,
                accept_non_2xx=accept_non_2xx,
                deadline=started + settings.TRYON_FETCH_TOTAL_TIMEOUT,
            )
    except FetchError as exc:
        # Only the reason: logs carry no URLs, and the address would hint at internal topology.
        logger.info("outbound fetch failed: %s", exc.reason)
        raise
    return FetchResult(
        status=status,
        content=content,
        content_type=content_type,
        final_url=final_url,
        elapsed_ms=(time.monotonic() - started) * 1000,
    )


def _connections_release() -> None:
    """Hand this thread's database connections back (to the pool on PostgreSQL) before waiting on a remote server:
    a URL that drips bytes for the whole total deadline would otherwise keep a pool slot busy for that long, and a
    few such requests exhaust the pool for every account. The next query reconnects (a pool checkout). Inside a
    transaction the connection must stay; no production caller fetches inside one (tests do, wrapped in theirs)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _fetch(
    *,
    session: requests.Session,
    url: str,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
    follow_redirects: bool,
    limit: int,
    accept_non_2xx: bool,
    deadline: float,
) -> tuple[int, bytes, str, str]:
    redirects = 0
    while True:
        prepared = _prepare(method=method, url=url, body=body, headers=headers)
        target = policy.check_target(url=prepared.url or "")
        response = _send(session=session, prepared=prepared, target=target, deadline=deadline)
        location = session.get_redirect_target(response) if follow_redirects else None
        if location is None or response.status_code not in _REDIRECT_STATUSES:
            break
        response.close()
        redirects += 1
        if redirects > settings.TRYON_FETCH_MAX_REDIRECTS:
            raise FetchError("too_many_redirects")
        next_url = urljoin(prepared.url or "", location)
        next_origin = (urlsplit(next_url).scheme.lower(), *policy.check_url(url=next_url))
        if next_origin != (urlsplit(prepared.url or "").scheme, target.host, target.port):
            headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
        # Browser semantics, as requests applies them: 303 always, and 301/302 after POST, become a bodiless GET.
        if (response.status_code == 303 and method != "HEAD") or (
            response.status_code in (301, 302) and method == "POST"
        ):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        url = next_url

    with response:
        if not 200 <= response.status_code < 300 and not accept_non_2xx:
            raise FetchError("http_status", status=response.status_code)
        content = _read_body(response=response, limit=limit, deadline=deadline)
    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return response.status_code, content, content_type, prepared.url or ""


def _prepare(*, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> requests.PreparedRequest:
    # Scheme and credential rules run on the raw URL first: requests leaves non-http URLs unparsed.
    policy.check_url(url=url)
    try:
        prepared = requests.Request(method=method, url=url, headers=headers, data=body).prepare()
    except (requests.RequestException, ValueError, UnicodeError):
        raise FetchError("invalid_url") from None
    # The prepared URL is what the adapter sees (IDNA-encoded, normalised), so the rules must see it too.
    policy.check_url(url=prepared.url or "")
    return prepared


def _send(
    *, session: requests.Session, prepared: requests.PreparedRequest, target: policy.Target, deadline: float
) -> requests.Response:
    remaining = _remaining(deadline=deadline)
    for previous in session.adapters.values():
        previous.close()  # the previous hop's pool, pinned to an address this hop must not reuse
    adapter = PinnedAddressAdapter(target=target)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # The connection goes to an address literal; the Host header keeps the name the URL asked for.
    prepared.headers["Host"] = urlsplit(prepared.url or "").netloc
    timeout = (
        min(settings.TRYON_FETCH_CONNECT_TIMEOUT, remaining),
        min(settings.TRYON_FETCH_READ_TIMEOUT, remaining),
    )
    # ``from None`` throughout: requests' messages quote the URL and the pinned address, and a caller logging
    # the traceback would leak them.
    try:
        return session.send(prepared, stream=True, timeout=timeout, allow_redirects=False, verify=_VERIFY)
    except requests.Timeout:
        raise FetchError("timeout") from None
    except PinMismatchError:
        raise FetchError("blocked_address") from None
    except requests.exceptions.InvalidURL:
        raise FetchError("invalid_url") from None
    except (requests.RequestException, OSError):
        raise FetchError("connection") from None


def _read_body(*, response: requests.Response, limit: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError("too_large")
    raw: urllib3.BaseHTTPResponse = response.raw
    chunks: list[bytes] = []
    received = 0
    try:
        while True:
            _limit_socket_wait(raw=raw, remaining=_remaining(deadline=deadline))
            # read1 returns whatever one receive produced; read(n) would block until n bytes arrive, so a slow
            # drip could outlive the total deadline.
            chunk = raw.read1(_CHUNK_BYTES, decode_content=False)
            if not chunk:
                break
            received += len(chunk)
            if received > limit:  # Content-Length was absent, or shorter than what is being sent
                raise FetchError("too_large")
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        raise FetchError("timeout") from None
    except (urllib3.exceptions.HTTPError, OSError):
        raise FetchError("connection") from None
    return b"".join(chunks)


def _limit_socket_wait(*, raw: urllib3.BaseHTTPResponse, remaining: float) -> None:
    # Shrinking the socket timeout to what is left of the total makes the deadline exact instead of
    # overshooting by up to one read timeout.
    sock = getattr(raw.connection, "sock", None)
    if sock is not None:
        sock.settimeout(min(settings.TRYON_FETCH_READ_TIMEOUT, remaining))


def _remaining(*, deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("timeout")
    return remaining
