from __future__ import annotations

import io

import pytest

from tests.generations.helpers import image_server
from tests.images import jpeg_bytes


@pytest.fixture
def images(settings):
    """A local image server reachable through the safe fetcher's allow-list."""
    with image_server() as (base, handler):
        port = int(base.rsplit(":", 1)[1])
        settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
        settings.TRYON_FETCH_ALLOWED_PORTS = [port]
        yield base, handler


@pytest.fixture
def uploaded_image_id(api) -> str:
    buffer = io.BytesIO(jpeg_bytes(width=600, height=750))
    buffer.name = "me.jpg"
    response = api.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false", "customerId": "user-1"})
    assert response.status_code == 201
    return response.json()["imageId"]
