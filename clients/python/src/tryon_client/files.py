"""Multipart helpers: a photo given as bytes, a path, or a binary file object becomes one form part.

The bytes are read once, up front, so a retried request sends the same part again from its first byte (a file
object that was already read would otherwise send nothing the second time). The server decides the format from
the bytes, not from the name or the content type; both are only labels here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TypeAlias

# What a caller may hand over as a photo.
Upload: TypeAlias = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]
# What httpx sends as one file part: (file name, content, content type).
FilePart: TypeAlias = tuple[str, bytes, str]

_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"WEBP", 8, "image/webp", ".webp"),
    (b"ftypheic", 4, "image/heic", ".heic"),
    (b"ftypheix", 4, "image/heic", ".heic"),
    (b"ftypmif1", 4, "image/heif", ".heif"),
)


def image_content_type(*, content: bytes) -> tuple[str, str]:
    """(content type, file extension) guessed from the first bytes; octet-stream when unknown."""
    for signature, offset, content_type, extension in _SIGNATURES:
        if content[offset : offset + len(signature)] == signature:
            return content_type, extension
    return "application/octet-stream", ".bin"


def file_part(*, upload: Upload, name: str = "upload") -> FilePart:
    """One multipart file part from bytes, a path (str or `Path`) or a binary file object.

    `name` is the file name sent when the source has none of its own (bytes; a file object without `.name`).
    A `str` is always a path: pass bytes to send content."""
    if isinstance(upload, bytes | bytearray | memoryview):
        content = bytes(upload)
        filename = ""
    elif isinstance(upload, str | os.PathLike):
        path = Path(upload)
        content = path.read_bytes()
        filename = path.name
    else:
        data = upload.read()
        if not isinstance(data, bytes):
            raise TypeError("file objects must be opened in binary mode ('rb')")
        content = data
        own_name = getattr(upload, "name", "")
        filename = Path(own_name).name if isinstance(own_name, str) else ""
    content_type, extension = image_content_type(content=content)
    return filename or f"{name}{extension}", content, content_type
