"""[ext] `Idempotency-Key` on the write endpoints (docs/api.md "Idempotency keys").

The first request with a key stores a record (unique per account and key: the database, not a check-then-act,
decides who is first), runs, and stores its response. A repeat with the same fingerprint replays that response with
`Idempotent-Replayed: true` and does no work; a different fingerprint is 422 IDEMPOTENCY_KEY_REUSED. A repeat that
arrives while the first is still running waits a short while for it, then gets 409 IDEMPOTENCY_KEY_IN_USE with
`Retry-After`. A first request that failed with 5xx leaves no record, so a retry runs again."""

from __future__ import annotations

import functools
import hashlib
import json
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def request_fingerprint(request) -> str:
    """Method, path, and the body as the client meant it: raw JSON bytes, or for multipart the form fields plus a
    digest of every file (the multipart boundary differs between identical requests, so raw bytes would not do)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.path.rstrip('/')}\n".encode())
    if (request.content_type or "").startswith("multipart/"):
        for name in sorted(request.data.keys()):
            if name in request.FILES:
                continue
            for value in request.data.getlist(name):
                digest.update(f"field:{name}={value}\n".encode())
        for name in sorted(request.FILES.keys()):
            for upload in request.FILES.getlist(name):
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                digest.update(f"file:{name}={file_digest.hexdigest()}\n".encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _key_from(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise validation_error([ErrorDetail(path=HEADER, message=f"must be 1-{MAX_KEY_LENGTH} characters")])
    return key


def _live(account, key: str):
    cutoff = timezone.now() - timedelta(hours=settings.TRYON_IDEMPOTENCY_TTL_HOURS)
    IdempotencyRecord.objects.filter(account=account, key=key, created_at__lt=cutoff).delete()
    return IdempotencyRecord.objects.filter(account=account, key=key).first()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response[REPLAYED_HEADER] = "true"
    return response


def _existing(*, account, key: str, fingerprint: str) -> Response | None:
    """The answer for a repeated key, or None when the record vanished (expired, or its 5xx run was dropped)."""
    deadline = time.monotonic() + settings.TRYON_IDEMPOTENCY_WAIT_SECONDS
    while True:
        record = _live(account, key)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise ApiError(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                           "This Idempotency-Key was already used with a different request.")
        if record.completed:
            return _replay(record)
        if time.monotonic() >= deadline:
            raise ApiError(ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                           "A request with this Idempotency-Key is still being processed.",
                           headers={"Retry-After": "1"})
        time.sleep(0.1)


def idempotent(handler):
    """Wrap an APIView handler method (after DRF authentication) with Idempotency-Key semantics."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = _key_from(request)
        if key is None:
            return handler(self, request, *args, **kwargs)
        account = request.user
        fingerprint = request_fingerprint(request)
        for _ in range(3):
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(account=account, key=key, fingerprint=fingerprint)
                break
            except IntegrityError:
                replay = _existing(account=account, key=key, fingerprint=fingerprint)
                if replay is not None:
                    return replay
        else:
            raise ApiError(ErrorCode.IDEMPOTENCY_KEY_IN_USE, "Retry this request.", headers={"Retry-After": "1"})
        try:
            response = handler(self, request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - rendered exactly as the view would, then recorded
            response = self.handle_exception(exc)
        if response.status_code >= 500:
            record.delete()
        else:
            # DRF responses carry `.data`; error responses from the exception handler are already JSON.
            body = response.data if hasattr(response, "data") else json.loads(response.content)
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                completed=True, response_status=response.status_code, response_body=body
            )
        return response

    return wrapper


def idempotency_records_purge(*, batch_size: int = 5000) -> int:
    cutoff = timezone.now() - timedelta(hours=settings.TRYON_IDEMPOTENCY_TTL_HOURS)
    ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch_size])
    return IdempotencyRecord.objects.filter(id__in=ids).delete()[0]
