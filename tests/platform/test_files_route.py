"""The signed-file route answers the JSON error shape for everything it does not serve."""

from urllib.parse import urlsplit

import pytest

from tryon_project.storage import blob_save, blob_signed_url


def _get(client, signed_url: str):
    parts = urlsplit(signed_url)
    return client.get(f"{parts.path}?{parts.query}")


@pytest.mark.parametrize("key", ["customers", "customers/2026", "customers/2026/"])
def test_a_validly_signed_directory_key_is_404_json(anon, key):
    blob_save(kind="customers", data=b"\xff\xd8photo", content_type="image/jpeg")
    response = _get(anon, blob_signed_url(key=key).url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "NOT_FOUND", "message": "This file no longer exists.", "status": 404}


def test_a_validly_signed_key_escaping_the_storage_is_404_json(anon):
    response = _get(anon, blob_signed_url(key="../../etc/passwd").url)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


@pytest.mark.django_db
def test_a_stored_object_is_still_served(anon):
    key = blob_save(kind="customers", data=b"\xff\xd8photo", content_type="image/jpeg")
    response = _get(anon, blob_signed_url(key=key).url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8photo"


@pytest.mark.parametrize("path", ["/files/", "/files", "/nothing-here"])
def test_unmatched_paths_are_json_404(anon, path):
    response = anon.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "NOT_FOUND"
