"""Object storage for photos and results, on Django's default storage (local files or S3 via django-storages).

Object keys are random and never contain customer ids. URLs handed to clients are signed and expire:
- S3: presigned GET URLs from the backend;
- local files: `/files/<key>?exp=<unix>&sig=<hmac>`, served by `signed_file_view`, HMAC-SHA256 over key and expiry
  with a key derived from SECRET_KEY, checked in constant time; an object scheduled for deletion is not served."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare

from tryon_project.enqueue import task_enqueue
from tryon_project.models import BlobDeletion

logger = logging.getLogger("tryon.storage")

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
    """Store a new object; inside a `blob_atomic` scope it is deleted again if that scope rolls back
    (see "Objects stored inside a transaction" below)."""
    key = blob_key(kind=kind, content_type=content_type)
    stored = default_storage.save(key, ContentFile(data))
    _scope_record(key=stored)
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
    # A scheduled deletion is the tombstone: it is written by the transaction that forgot the object (an erasure,
    # a purge, a replaced product image), so the link dies at that commit, not when the deletion job gets to it.
    if not _is_stored_file(key) or blob_deletions_pending(keys=[key]):
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


# --- The durable deletion queue ----------------------------------------------------------------------------------
# Storage is not transactional. Every object whose last reference a transaction drops is recorded in
# `BlobDeletion` by that same transaction, so a broker outage or a crashed worker can delay its deletion but never
# lose it: the deletion job is sent after commit, and the periodic run (`platform.delete_blobs`) catches the rest.

DELETE_TASK = "platform.delete_blobs"


def blob_deletions_schedule(*, keys: Iterable[str], inline: bool = False) -> list[str]:
    """Record objects to delete; call it inside the transaction that drops the references to them. After that
    transaction commits, the deletion job is sent, or with `inline` the objects are deleted right there (a few
    objects the caller's request owns, e.g. a product's images) and only what storage refuses is left to the job.
    Returns the recorded keys (sorted, without duplicates)."""
    unique = sorted({key for key in keys if key})
    if unique:
        BlobDeletion.objects.bulk_create([BlobDeletion(storage_key=key) for key in unique], ignore_conflicts=True)
        transaction.on_commit(lambda: (_delete_inline if inline else _send)(keys=unique))
    return unique


def _send(*, keys: list[str]) -> None:
    task_enqueue(name=DELETE_TASK, args=(keys,), recovery="the periodic deletion run")


def _delete_inline(*, keys: list[str]) -> None:
    blob_deletions_process(keys=keys)
    if blob_deletions_pending(keys=keys):
        _send(keys=keys)


def blob_discard(*, keys: Iterable[str]) -> None:
    """Delete objects that nothing references any more, now (an upload whose transaction failed, the losing copy
    of a race); if storage refuses, record them for the retried deletion run instead of leaving an orphan."""
    for key in {key for key in keys if key}:
        try:
            blob_delete(key=key)
        except Exception as exc:  # noqa: BLE001 - any storage failure is retried by the deletion run
            logger.warning("storage deletion failed, scheduled for retry: %s", type(exc).__name__)
            BlobDeletion.objects.get_or_create(storage_key=key)


# --- Objects stored inside a transaction -------------------------------------------------------------------------
# Storage is not transactional and Django has no rollback hook, so a service boundary opens `blob_atomic()` instead
# of `transaction.atomic()`. Every key `blob_save` writes while such a scope is open (in the services it calls, at
# any depth, before or inside their own savepoints) is owned by the innermost scope:
# - the scope's block rolls back (an exception leaves it): its keys are deleted right after the rollback, or
#   recorded in the deletion queue if storage refuses (`blob_discard`);
# - it succeeds inside an enclosing scope: its keys pass to that one, because they are committed only when the
#   enclosing transaction is, and that can still roll back (a try-on whose credit reservation fails after its
#   inline product's uploads were stored);
# - it succeeds as the outermost scope: its rows now hold the references; nothing left to do.
# The stack is a context variable, so it follows a request into the threads its context is copied into.


@dataclass
class _Scope:
    keys: list[str] = field(default_factory=list)


_scopes: ContextVar[tuple[_Scope, ...]] = ContextVar("tryon_blob_scopes", default=())


def _scope_record(*, key: str) -> None:
    scopes = _scopes.get()
    if scopes:
        scopes[-1].keys.append(key)


@contextmanager
def blob_atomic() -> Iterator[None]:
    """`transaction.atomic()` that also owns the objects stored while it is open: they are deleted when its block
    rolls back, including after an inner service has returned successfully (see the section comment)."""
    scope = _Scope()
    token = _scopes.set((*_scopes.get(), scope))
    try:
        with transaction.atomic():
            yield
    except BaseException:
        _scopes.reset(token)
        # The block has rolled back by now (its savepoint or the whole transaction): no row refers to these.
        try:
            blob_discard(keys=scope.keys)
        except Exception as exc:  # noqa: BLE001 - the rollback's own cause is what the caller must see
            logger.warning("objects of a rolled-back transaction not deleted: %s", type(exc).__name__)
        raise
    _scopes.reset(token)
    enclosing = _scopes.get()
    if enclosing:
        enclosing[-1].keys.extend(scope.keys)


# Apps above the platform that still read objects nothing else references (a queued try-on reading the product
# images it was accepted with) register a function here in their AppConfig.ready(): called with scheduled keys, it
# returns those still in use. Their deletion waits for a later run; the platform never imports the apps.
BlobHolder = Callable[..., set[str]]

_holders: list[BlobHolder] = []


def blob_holder_register(holder: BlobHolder) -> None:
    """Be asked, before every deletion, which scheduled objects are still in use (idempotent registration)."""
    if holder not in _holders:
        _holders.append(holder)


def _held(*, keys: list[str]) -> set[str]:
    held: set[str] = set()
    for holder in _holders:
        held |= holder(keys=keys)
    return held


def blob_deletions_process(*, batch_size: int = 200, keys: list[str] | None = None) -> int:
    """Delete scheduled objects from storage (only `keys`, when given); idempotent and safe on several workers
    (rows are claimed with SKIP LOCKED where the database supports it). Objects a holder still uses stay
    scheduled for a later run. Returns how many objects were deleted."""
    deleted = 0
    with transaction.atomic():
        queryset = BlobDeletion.objects.order_by("id")
        if keys is not None:
            queryset = queryset.filter(storage_key__in=keys)
        claimed = list(queryset.select_for_update(skip_locked=True)[:batch_size])
        held = _held(keys=[row.storage_key for row in claimed]) if claimed else set()
        for row in claimed:
            if row.storage_key in held:
                continue
            try:
                blob_delete(key=row.storage_key)
            except Exception as exc:  # noqa: BLE001 - any storage failure is retried by the next run
                logger.warning("storage deletion failed (attempt %d): %s", row.attempts + 1, type(exc).__name__)
                BlobDeletion.objects.filter(pk=row.pk).update(
                    attempts=row.attempts + 1, last_error=type(exc).__name__[:200]
                )
                continue
            row.delete()
            deleted += 1
    return deleted


def blob_deletions_pending(*, keys: list[str]) -> bool:
    return BlobDeletion.objects.filter(storage_key__in=keys).exists()
