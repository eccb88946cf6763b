"""Storage backends for tests: local files (tmp dir) and a real S3-compatible server (moto's standalone server,
started by the test run on 127.0.0.1)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _use_s3(settings, endpoint: str) -> str:
    bucket = f"tryon-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.STORAGES = {**django_settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    return bucket


@pytest.fixture(params=["local", "s3"])
def any_storage(request, settings) -> str:
    """Run a test once on local files and once on the S3-compatible server."""
    if request.param == "s3":
        _use_s3(settings, request.getfixturevalue("moto_endpoint"))
    return request.param


def all_storage_keys() -> list[str]:
    """Every object in the active storage (walks the whole tree / bucket)."""
    keys: list[str] = []

    def walk(prefix: str) -> None:
        directories, files = default_storage.listdir(prefix)
        keys.extend(f"{prefix}{name}" if not prefix else f"{prefix.rstrip('/')}/{name}" for name in files)
        for directory in directories:
            walk(f"{prefix.rstrip('/')}/{directory}/" if prefix else f"{directory}/")

    try:
        walk("")
    except FileNotFoundError:
        return []
    return sorted(key.lstrip("/") for key in keys)
