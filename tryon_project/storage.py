"""Object storage for photos and results, on Django's default storage (local files or S3 via django-storages).

Object keys are random and never contain customer ids. URLs handed to clients are signed and expire:
- S3: presigned GET URLs from the backend;
- local files: `/files/<key>?exp=<unix>&sig=<hmac>`, served by `signed_file_view`, HMAC-SHA256 over key and expiry
  with a key derived from SECRET_KEY, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


def _backend_is_filesystem() -> bool:
    backend = settings.STORAGES["default"]["BACKEND"]
    return backend == "django.core.files.storage.FileSystemStorage"


def blob_key(*, kind: str, content_type: str) -> str:
    """A fresh, unguessable object key: `<kind>/<yyyy>/<mm>/<dd>/<random>.<ext>` (no customer data)."""
    today = datetime.now(tz=UTC)
    extension = _EXTENSIONS.get(content_type, "bin")
    return f"{kind}/{today:%Y/%m/%d}/{secrets.token_urlsafe(18)}.{extension}"


def blob_save(*, kind: str, data: bytes, content_type: str) -> str:
    key = blob_key(kind=kind, content_type=content_type)
    stored = default_storage.save(key, ContentFile(data))
    return stored


def blob_read(*, key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def blob_exists(*, key: str) -> bool:
    return default_storage.exists(key)


def blob_delete(*, key: str) -> None:
    """Idempotent: deleting a missing object is not an error (both backends)."""
    default_storage.delete(key)


def _signature(*, key: str, expires: int) -> str:
    secret = hashlib.sha256(b"tryon-signed-url:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()


def blob_signed_url(*, key: str, ttl_seconds: int | None = None) -> SignedUrl:
    ttl = ttl_seconds or settings.TRYON_SIGNED_URL_TTL_SECONDS
    expires = int(time.time()) + ttl
    expires_at = datetime.fromtimestamp(expires, tz=UTC)
    if not _backend_is_filesystem():
        return SignedUrl(url=default_storage.url(key, expire=ttl), expires_at=expires_at)
    query = urlencode({"exp": expires, "sig": _signature(key=key, expires=expires)})
    return SignedUrl(url=f"{settings.PUBLIC_BASE_URL}/files/{quote(key)}?{query}", expires_at=expires_at)


def signed_file_view(request: HttpRequest, key: str) -> HttpResponse:
    """Serve a local-storage object to the holder of a valid, unexpired signed URL."""
    expires_raw, signature = request.GET.get("exp", ""), request.GET.get("sig", "")
    if not expires_raw.isdigit() or not signature:
        return _denied(403, "Missing or malformed signature.")
    expires = int(expires_raw)
    if not constant_time_compare(signature, _signature(key=key, expires=expires)):
        return _denied(403, "Invalid signature.")
    if expires < time.time():
        return _denied(403, "This link has expired.")
    if not _is_stored_file(key):
        return _denied(404, "This file no longer exists.")
    response = FileResponse(default_storage.open(key, "rb"), content_type=_content_type_for(key))
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _is_stored_file(key: str) -> bool:
    """Objects only: a key naming a directory of the storage (or escaping it) is not a file to serve. Signed
    `/files/` URLs exist for local storage only; under S3 the route serves nothing."""
    if not _backend_is_filesystem():
        return False
    try:
        return default_storage.exists(key) and os.path.isfile(default_storage.path(key))
    except SuspiciousFileOperation:
        return False


def _content_type_for(key: str) -> str:
    extension = key.rsplit(".", 1)[-1]
    return {v: k for k, v in _EXTENSIONS.items()}.get(extension, "application/octet-stream")


def _denied(status: int, message: str) -> JsonResponse:
    code = "FORBIDDEN" if status == 403 else "NOT_FOUND"
    return JsonResponse({"code": code, "message": message, "status": status}, status=status)
