"""The one outbound URL fetcher: address rules, redirects, limits, pinning (docs/security.md)."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import override_settings

from tryon_project.http_fetch import FetchError, FetchResult, policy, url_fetch, url_validate
from tryon_project.http_fetch import client as fetch_client

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"
BIG = 30 * 1024 * 1024
BLOCK = b"x" * (1024 * 1024)
TLS_HOST = "images.example.test"


class FixtureHandler(BaseHTTPRequestHandler):
    server: FixtureServer

    def log_message(self, format: str, *args: object) -> None:
        return  # keep test output clean

    def do_GET(self) -> None:
        self._dispatch(body=b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(body=self.rfile.read(length))

    def _dispatch(self, *, body: bytes) -> None:
        parts = urlsplit(self.path)
        self.server.seen.append(
            {
                "method": self.command,
                "path": parts.path,
                "host": self.headers.get("Host"),
                "body": body,
                "headers": dict(self.headers),
            }
        )
        route = parts.path.strip("/").split("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        try:
            getattr(self, "route_" + route[0].replace("-", "_"))(route[1:], query)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up on purpose

    def _reply(
        self,
        *,
        status: int = 200,
        body: bytes = b"",
        content_type: str = "image/jpeg",
        length: int | None = -1,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(len(body) if length == -1 else length))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def route_image(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(body=JPEG)

    def route_html_as_jpeg(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(body=b"<html><body>not an image</body></html>", content_type="image/jpeg; charset=utf-8")

    def route_redirect(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(status=int(query.get("status", "302")), extra={"Location": query["to"]}, content_type="text/plain")

    def route_chain(self, args: list[str], query: dict[str, str]) -> None:
        left = int(args[0])
        if left == 0:
            self._reply(body=JPEG)
        else:
            self._reply(status=302, extra={"Location": f"/chain/{left - 1}"}, content_type="text/plain")

    def route_drip(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(length=100)
        for _ in range(100):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(1)

    def route_slow_headers(self, args: list[str], query: dict[str, str]) -> None:
        time.sleep(2)
        self._reply(body=JPEG)

    def _stream(self, total: int, *, chunked: bool = False) -> None:
        for _ in range(total // len(BLOCK)):
            if chunked:
                self.wfile.write(f"{len(BLOCK):x}\r\n".encode() + BLOCK + b"\r\n")
            else:
                self.wfile.write(BLOCK)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def route_big(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(length=BIG)
        self._stream(BIG)

    def route_big_no_length(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(length=None)  # HTTP/1.0: the body runs until the connection closes
        self._stream(BIG)

    def route_big_chunked(self, args: list[str], query: dict[str, str]) -> None:
        self.protocol_version = "HTTP/1.1"
        self.close_connection = True
        self._reply(length=None, extra={"Transfer-Encoding": "chunked"})
        self._stream(BIG, chunked=True)

    def route_lying_length(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(length=1000)
        self._stream(BIG)

    def route_status(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(status=int(args[0]), body=b"upstream broke", content_type="text/plain")

    def route_echo(self, args: list[str], query: dict[str, str]) -> None:
        self._reply(status=201, body=b'{"ok": true}', content_type="application/json")


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[dict]

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, *, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


def _serve(server: FixtureServer) -> Iterator[FixtureServer]:
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[FixtureServer]:
    yield from _serve(FixtureServer(("127.0.0.1", 0), FixtureHandler))


@pytest.fixture(autouse=True)
def _clear_seen(server: FixtureServer) -> None:
    server.seen.clear()


@pytest.fixture
def allowed(server: FixtureServer) -> Iterator[None]:
    with override_settings(
        TRYON_FETCH_ALLOW_NETWORKS=["127.0.0.1/32"], TRYON_FETCH_ALLOWED_PORTS=[80, 443, server.port]
    ):
        yield


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address a socket connects to while the test runs."""
    seen: list[tuple[str, int]] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: tuple) -> None:
        seen.append((address[0], address[1]))
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: tuple) -> int:
        seen.append((address[0], address[1]))
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return seen


def fake_resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Make ``policy.resolve`` answer from ``answers`` (successive calls pop successive answers)."""
    calls: list[str] = []

    def resolve(*, host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        calls.append(host)
        queue = answers[host]
        current = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ipaddress.ip_address(a) for a in current]

    monkeypatch.setattr(policy, "resolve", resolve)
    return calls


# --- the blocked matrix -------------------------------------------------------------------------------------

BLOCKED = [
    ("http://127.0.0.1/", "blocked_address"),
    ("http://localhost/", "blocked_address"),
    ("http://0.0.0.0/", "blocked_address"),
    ("http://[::]/", "blocked_address"),
    ("http://[::1]/", "blocked_address"),
    ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
    ("http://[fd00:ec2::254]/", "blocked_address"),
    ("http://100.100.100.200/", "blocked_address"),
    ("http://10.0.0.1/", "blocked_address"),
    ("http://172.16.0.1/", "blocked_address"),
    ("http://192.168.1.1/", "blocked_address"),
    ("http://100.64.0.1/", "blocked_address"),
    ("http://224.0.0.1/", "blocked_address"),
    ("http://[fd00::1]/", "blocked_address"),
    ("http://[fe80::1]/", "blocked_address"),
    ("http://[::ffff:127.0.0.1]/", "blocked_address"),
    ("http://[::ffff:10.0.0.1]/", "blocked_address"),
    ("http://[64:ff9b::7f00:1]/", "blocked_address"),
    ("http://2130706433/", "blocked_address"),
    ("http://0x7f000001/", "blocked_address"),
    ("http://0177.0.0.1/", "blocked_address"),
    ("http://127.1/", "blocked_address"),
    ("file:///etc/passwd", "bad_scheme"),
    ("gopher://127.0.0.1:70/_payload", "bad_scheme"),
    ("ftp://example.com/image.jpg", "bad_scheme"),
    ("http://user:secret@example.com/image.jpg", "credentials_in_url"),
    ("http://user@example.com/image.jpg", "credentials_in_url"),
    ("http://example.com:22/image.jpg", "bad_port"),
    ("https://example.com:6379/", "bad_port"),
    ("http://", "invalid_url"),
    ("not a url", "invalid_url"),
    ("http://[::1/", "invalid_url"),
]


@pytest.mark.parametrize(("url", "reason"), BLOCKED)
def test_blocked_urls_never_open_a_socket(url: str, reason: str, connects: list) -> None:
    with pytest.raises(FetchError) as caught:
        url_fetch(url=url)
    assert caught.value.reason == reason
    with pytest.raises(FetchError) as caught:
        url_validate(url=url)
    assert caught.value.reason == reason
    assert connects == []


def test_hostname_resolving_to_private_address_is_blocked(monkeypatch, connects) -> None:
    fake_resolver(monkeypatch, {"intranet.example.test": [["10.1.2.3"]]})
    with pytest.raises(FetchError) as caught:
        url_fetch(url="http://intranet.example.test/img.jpg")
    assert caught.value.reason == "blocked_address"
    assert connects == []


def test_any_private_answer_blocks_the_name(monkeypatch, connects) -> None:
    fake_resolver(monkeypatch, {"mixed.example.test": [["93.184.216.34", "10.0.0.1"]]})
    with pytest.raises(FetchError) as caught:
        url_fetch(url="http://mixed.example.test/img.jpg")
    assert caught.value.reason == "blocked_address"
    assert connects == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "168.63.129.16",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "240.0.0.1",
        "198.18.0.1",
        "192.0.2.1",
        "224.0.0.1",
        "::",
        "::1",
        "fe80::1",
        "fec0::1",
        "fd00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo whose client is 10.0.0.1
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not policy.is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses(address: str) -> None:
    assert policy.is_public_address(ipaddress.ip_address(address))


@override_settings(TRYON_FETCH_ALLOW_NETWORKS=["169.254.0.0/16", "100.64.0.0/10"])
def test_allow_list_never_opens_metadata_addresses(monkeypatch) -> None:
    fake_resolver(
        monkeypatch,
        {"meta.test": [["169.254.169.254"]], "ali.test": [["100.100.100.200"]], "sidecar.test": [["169.254.1.1"]]},
    )
    for host in ("meta.test", "ali.test"):
        with pytest.raises(FetchError) as caught:
            url_validate(url=f"http://{host}/")
        assert caught.value.reason == "blocked_address"
    url_validate(url="http://sidecar.test/")


def test_validate_accepts_public_names_without_connecting(monkeypatch, connects) -> None:
    calls = fake_resolver(monkeypatch, {"cdn.example.test": [["93.184.216.34"]]})
    url_validate(url="https://cdn.example.test/hooks")
    assert calls == ["cdn.example.test"]
    assert connects == []


def test_errors_and_logs_never_carry_the_address_or_url(monkeypatch, caplog) -> None:
    fake_resolver(monkeypatch, {"secret-internal.example.test": [["10.9.8.7"]]})
    with caplog.at_level(logging.DEBUG), pytest.raises(FetchError) as caught:
        url_fetch(url="http://secret-internal.example.test/private/path")
    assert "10.9.8.7" not in str(caught.value)
    assert "secret-internal" not in caplog.text and "10.9.8.7" not in caplog.text
    assert "blocked_address" in caplog.text


# --- fetching from the fixture server ----------------------------------------------------------------------


def test_fetches_an_image(server, allowed, connects) -> None:
    result = url_fetch(url=server.url("/image"))
    assert isinstance(result, FetchResult)
    assert (result.status, result.content, result.content_type) == (200, JPEG, "image/jpeg")
    assert result.final_url == server.url("/image")
    assert result.elapsed_ms > 0
    assert set(connects) == {("127.0.0.1", server.port)}


def test_returns_declared_content_type_even_when_body_is_html(server, allowed) -> None:
    result = url_fetch(url=server.url("/html-as-jpeg"))
    assert result.content.startswith(b"<html>")
    assert result.content_type == "image/jpeg"  # the image module, not the fetcher, rejects it


def test_allow_list_is_needed_to_reach_the_fixture(server, connects) -> None:
    with override_settings(TRYON_FETCH_ALLOWED_PORTS=[server.port]), pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/image"))
    assert caught.value.reason == "blocked_address"
    assert connects == []


def test_environment_proxies_are_ignored(server, allowed, connects, monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://10.255.255.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert url_fetch(url=server.url("/image")).content == JPEG
    assert set(connects) == {("127.0.0.1", server.port)}


def test_dns_rebinding_connects_only_to_the_validated_address(server, allowed, connects, monkeypatch) -> None:
    calls = fake_resolver(monkeypatch, {"rebind.example.test": [["127.0.0.1"], ["10.0.0.1"]]})
    result = url_fetch(url=server.url("/image", host="rebind.example.test"))
    assert result.content == JPEG
    assert calls == ["rebind.example.test"]  # resolved once
    assert set(connects) == {("127.0.0.1", server.port)}
    assert server.seen[0]["host"] == f"rebind.example.test:{server.port}"


def test_redirect_hop_is_resolved_and_checked_again(server, allowed, connects, monkeypatch) -> None:
    fake_resolver(monkeypatch, {"rebind.example.test": [["127.0.0.1"], ["10.0.0.1"]]})
    first = server.url("/redirect?to=/image", host="rebind.example.test")
    with pytest.raises(FetchError) as caught:
        url_fetch(url=first)
    assert caught.value.reason == "blocked_address"
    assert [s["path"] for s in server.seen] == ["/redirect"]
    assert set(connects) == {("127.0.0.1", server.port)}


# --- redirects ---------------------------------------------------------------------------------------------


def test_follows_a_redirect_to_an_allowed_address(server, allowed) -> None:
    result = url_fetch(url=server.url(f"/redirect?to={server.url('/image')}"))
    assert result.content == JPEG
    assert result.final_url == server.url("/image")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://10.0.0.1:{port}/image", "blocked_address"),
        ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
        ("http://[::1]:{port}/image", "blocked_address"),
        ("file:///etc/passwd", "bad_scheme"),
        ("http://user:pw@127.0.0.1:{port}/image", "credentials_in_url"),
        ("http://127.0.0.1:22/", "bad_port"),
    ],
)
def test_redirect_to_a_blocked_target_is_refused(server, allowed, connects, target: str, reason: str) -> None:
    location = target.format(port=server.port)
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/redirect?to=" + location))
    assert caught.value.reason == reason
    assert set(connects) == {("127.0.0.1", server.port)}


def test_three_redirects_are_followed(server, allowed) -> None:
    assert url_fetch(url=server.url("/chain/3")).content == JPEG
    assert len(server.seen) == 4


def test_a_fourth_redirect_is_refused(server, allowed) -> None:
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/chain/4"))
    assert caught.value.reason == "too_many_redirects"
    assert len(server.seen) == 4


def test_redirects_not_followed_raise_http_status(server, allowed) -> None:
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/redirect?to=/image"), follow_redirects=False)
    assert (caught.value.reason, caught.value.status) == ("http_status", 302)


def test_redirects_not_followed_are_returned_when_accepted(server, allowed) -> None:
    result = url_fetch(url=server.url("/redirect?to=/image"), follow_redirects=False, accept_non_2xx=True)
    assert result.status == 302
    assert result.final_url == server.url("/redirect?to=/image")
    assert len(server.seen) == 1


def test_credential_headers_do_not_follow_a_cross_origin_redirect(server, allowed, monkeypatch) -> None:
    fake_resolver(monkeypatch, {"other.example.test": [["127.0.0.1"]]})
    elsewhere = server.url("/image", host="other.example.test")
    url_fetch(url=server.url("/redirect?to=/image"), headers={"Authorization": "Bearer k"})
    url_fetch(url=server.url(f"/redirect?to={elsewhere}"), headers={"Authorization": "Bearer k"})
    assert [s["headers"].get("Authorization") for s in server.seen] == ["Bearer k", "Bearer k", "Bearer k", None]


# --- webhooks: POST ----------------------------------------------------------------------------------------


def test_post_with_body_and_headers(server, allowed) -> None:
    result = url_fetch(
        url=server.url("/echo"),
        method="POST",
        body=b'{"event": "generation.completed"}',
        headers={"Content-Type": "application/json", "X-Signature": "t=1,v1=abc"},
        follow_redirects=False,
    )
    assert result.status == 201
    seen = server.seen[0]
    assert (seen["method"], seen["body"]) == ("POST", b'{"event": "generation.completed"}')
    assert seen["headers"]["X-Signature"] == "t=1,v1=abc"


def test_post_redirect_307_keeps_the_body_and_303_becomes_get(server, allowed) -> None:
    url_fetch(url=server.url("/redirect?status=307&to=/echo"), method="POST", body=b"payload")
    url_fetch(url=server.url("/redirect?status=303&to=/echo"), method="POST", body=b"payload")
    assert [(s["method"], s["path"], s["body"]) for s in server.seen] == [
        ("POST", "/redirect", b"payload"),
        ("POST", "/echo", b"payload"),
        ("POST", "/redirect", b"payload"),
        ("GET", "/echo", b""),
    ]


# --- status, size and time limits --------------------------------------------------------------------------


def test_server_error_is_an_http_status_error(server, allowed) -> None:
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/status/500"))
    assert (caught.value.reason, caught.value.status) == ("http_status", 500)
    assert "500" in str(caught.value)


def test_server_error_is_returned_when_accepted(server, allowed) -> None:
    result = url_fetch(url=server.url("/status/500"), accept_non_2xx=True)
    assert (result.status, result.content) == (500, b"upstream broke")


def test_declared_length_over_the_cap_is_refused_up_front(server, allowed) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/big"))
    assert caught.value.reason == "too_large"
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("path", ["/big-no-length", "/big-chunked"])
def test_undeclared_length_is_capped_while_streaming(server, allowed, path: str) -> None:
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url(path))  # the default 10 MB cap
    assert caught.value.reason == "too_large"


def test_per_call_cap(server, allowed) -> None:
    assert url_fetch(url=server.url("/image"), max_bytes=len(JPEG)).content == JPEG
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/image"), max_bytes=len(JPEG) - 1)
    assert caught.value.reason == "too_large"
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/big-no-length"), max_bytes=100_000)
    assert caught.value.reason == "too_large"


def test_a_short_lying_length_never_yields_more_than_declared(server, allowed) -> None:
    result = url_fetch(url=server.url("/lying-length"), max_bytes=2000)
    assert len(result.content) == 1000


@override_settings(TRYON_FETCH_TOTAL_TIMEOUT=1.5, TRYON_FETCH_READ_TIMEOUT=5.0)
def test_a_drip_is_cut_at_the_total_deadline(server, allowed) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/drip"))
    elapsed = time.monotonic() - started
    assert caught.value.reason == "timeout"
    assert 1.3 < elapsed < 2.5


@override_settings(TRYON_FETCH_READ_TIMEOUT=0.3)
def test_slow_headers_hit_the_read_timeout(server, allowed) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        url_fetch(url=server.url("/slow-headers"))
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 1.5


# --- TLS to a pinned address -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FixtureServer, Path, list[str]]]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(TLS_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    sni: list[str] = []
    context.sni_callback = lambda _sock, server_name, _ctx: sni.append(server_name)
    server = FixtureServer(("127.0.0.1", 0), FixtureHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for running in _serve(server):
        yield running, cert_path, sni


def test_tls_connects_to_the_pinned_address_but_verifies_the_host_name(tls_server, monkeypatch, connects) -> None:
    server, cert_path, sni = tls_server
    monkeypatch.setattr(fetch_client, "_VERIFY", str(cert_path))
    fake_resolver(monkeypatch, {TLS_HOST: [["127.0.0.1"]], "other.example.test": [["127.0.0.1"]]})
    with override_settings(TRYON_FETCH_ALLOW_NETWORKS=["127.0.0.1/32"], TRYON_FETCH_ALLOWED_PORTS=[server.port]):
        result = url_fetch(url=server.url("/image", host=TLS_HOST, scheme="https"))
        assert result.content == JPEG
        assert sni[-1] == TLS_HOST
        assert server.seen[-1]["host"] == f"{TLS_HOST}:{server.port}"
        # Same address, but the certificate does not name this host: verification must fail.
        with pytest.raises(FetchError) as caught:
            url_fetch(url=server.url("/image", host="other.example.test", scheme="https"))
        assert caught.value.reason == "connection"
    assert set(connects) == {("127.0.0.1", server.port)}
