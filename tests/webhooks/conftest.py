from __future__ import annotations

import io
import socket

import pytest

from tests.images import jpeg_bytes
from tests.webhooks.receiver import Receiver, receiver_server


@pytest.fixture
def receiver(settings) -> Receiver:
    """A receiver (and product image server) on 127.0.0.1, reachable through the fetcher's allow-list."""
    with receiver_server() as server:
        settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
        settings.TRYON_FETCH_ALLOWED_PORTS = [80, 443, server.port]
        yield server


@pytest.fixture
def no_wait(settings):
    """Three retries without waiting: tests never sleep through a backoff."""
    settings.TRYON_WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]


@pytest.fixture
def person_id(api) -> str:
    buffer = io.BytesIO(jpeg_bytes(width=600, height=750))
    buffer.name = "me.jpg"
    response = api.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false"})
    assert response.status_code == 201
    return response.json()["imageId"]


@pytest.fixture
def connects(monkeypatch) -> list[tuple[str, int]]:
    """Every address a socket connects to while the test runs."""
    seen: list[tuple[str, int]] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        seen.append((address[0], address[1]))
        return real_connect(self, address)

    def connect_ex(self, address):
        seen.append((address[0], address[1]))
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return seen
