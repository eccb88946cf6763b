"""The multipart helper: one part from bytes, a path or a binary file object, labelled from its first bytes."""

from __future__ import annotations

import io

import pytest
from tryon_client import file_part, image_content_type

from tests.clients.conftest import GARMENT, PERSON


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", ("image/jpeg", ".jpg")),
        (b"\x89PNG\r\n\x1a\nrest", ("image/png", ".png")),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("image/webp", ".webp")),
        (b"\x00\x00\x00\x18ftypheic\x00", ("image/heic", ".heic")),
        (b"\x00\x00\x00\x18ftypmif1\x00", ("image/heif", ".heif")),
        (b"GIF89a", ("application/octet-stream", ".bin")),
        (b"", ("application/octet-stream", ".bin")),
    ],
)
def test_content_type_comes_from_the_bytes(head, expected):
    assert image_content_type(content=head) == expected


def test_a_path_keeps_its_file_name():
    assert file_part(upload=PERSON) == ("person.jpg", PERSON.read_bytes(), "image/jpeg")
    assert file_part(upload=str(GARMENT)) == ("tshirt.jpg", GARMENT.read_bytes(), "image/jpeg")


def test_bytes_are_named_after_the_part():
    content = PERSON.read_bytes()
    assert file_part(upload=content, name="person") == ("person.jpg", content, "image/jpeg")
    assert file_part(upload=bytearray(content), name="me")[0] == "me.jpg"
    assert file_part(upload=memoryview(content))[1] == content


def test_a_file_object_is_read_once_into_bytes():
    with PERSON.open("rb") as handle:
        assert file_part(upload=handle) == ("person.jpg", PERSON.read_bytes(), "image/jpeg")
    anonymous = io.BytesIO(b"\x89PNG\r\n\x1a\n...")
    assert file_part(upload=anonymous, name="garment-0") == ("garment-0.png", b"\x89PNG\r\n\x1a\n...", "image/png")


def test_a_text_mode_file_is_refused():
    with PERSON.open("r", encoding="latin-1") as handle, pytest.raises(TypeError, match="binary mode"):
        file_part(upload=handle)
