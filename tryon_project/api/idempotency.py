"""[ext] `Idempotency-Key` on the write endpoints (docs/api.md "Idempotency keys").

The first request with a key stores a record (unique per account and key: the database, not a check-then-act,
decides who is first), runs, and stores its response. A repeat with the same fingerprint replays that response with
`Idempotent-Replayed: true` and does no work; a different fingerprint is 422 IDEMPOTENCY_KEY_REUSED. A repeat that
arrives while the first is still running gets 409 IDEMPOTENCY_KEY_IN_USE with `Retry-After` at once. A first request
that failed with 5xx leaves no record, so a retry runs again.

A request in flight holds a lease on its record: a heartbeat thread renews it every third of
TRYON_IDEMPOTENCY_LEASE_SECONDS while the handler runs. If the process dies mid-request the heartbeat stops, the
lease lapses, and the next request with the same key and body takes the record over (one winner: the takeover is a
compare-and-set on the lease) and runs, instead of the key answering 409 until the record expires. While a record is
in flight its `created_at` is the lease's last renewal; once completed it no longer moves."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.response import Response

from tryon_project.api.errors import ApiError, ErrorCode, ErrorDetail, validation_error
from tryon_project.models import IdempotencyRecord

logger = logging.getLogger("tryon.api")

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


def _in_use(retry_after: int) -> ApiError:
    return ApiError(
        ErrorCode.IDEMPOTENCY_KEY_IN_USE,
        "A request with this Idempotency-Key is still being processed.",
        headers={"Retry-After": str(retry_after)},
    )


def _existing(*, account, key: str, fingerprint: str) -> tuple[Response | None, IdempotencyRecord | None]:
    """For a repeated key: (a replay, None), or (None, the record taken over from a dead request), or (None, None)
    when the record vanished (expired, or its 5xx run was dropped); raises 409 while the first is alive."""
    record = _live(account, key)
    if record is None:
        return None, None
    if record.fingerprint != fingerprint:
        raise ApiError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED, "This Idempotency-Key was already used with a different request."
        )
    if record.completed:
        return _replay(record), None
    lease = timedelta(seconds=settings.TRYON_IDEMPOTENCY_LEASE_SECONDS)
    now = timezone.now()
    if record.created_at + lease > now:
        # Alive: most requests finish within a second, so that is the hint (a dead one is taken over at lapse).
        raise _in_use(1)
    # The lease lapsed: whoever moves it from the value read here owns the record; a concurrent taker gets 0 rows.
    taken = IdempotencyRecord.objects.filter(pk=record.pk, completed=False, created_at=record.created_at).update(
        created_at=now
    )
    if not taken:
        raise _in_use(1)
    logger.warning("idempotency record of a dead request taken over")
    record.created_at = now
    return None, record


class _Heartbeat:
    """Renews the lease of one in-flight record until stopped. Runs on its own thread, so on its own database
    connection, closed after every renewal (a pool slot is held for one UPDATE, not for the whole request)."""

    def __init__(self, record_pk: int):
        self.record_pk = record_pk
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="idempotency-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        interval = settings.TRYON_IDEMPOTENCY_LEASE_SECONDS / 3
        while not self.stopped.wait(interval):
            try:
                IdempotencyRecord.objects.filter(pk=self.record_pk, completed=False).update(created_at=timezone.now())
            except Exception as exc:  # noqa: BLE001 - a missed renewal is retried at the next beat
                logger.warning("idempotency lease renewal failed: %s", type(exc).__name__)
            finally:
                connection.close()


def _claim(*, account, key: str, fingerprint: str) -> tuple[Response | None, IdempotencyRecord | None]:
    """(a replay, None) or (None, the record this request now owns)."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return None, IdempotencyRecord.objects.create(account=account, key=key, fingerprint=fingerprint)
        except IntegrityError:
            replay, record = _existing(account=account, key=key, fingerprint=fingerprint)
            if replay is not None or record is not None:
                return replay, record
    raise _in_use(1)


def idempotent(handler):
    """Wrap an APIView handler method (after DRF authentication) with Idempotency-Key semantics."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = _key_from(request)
        if key is None:
            return handler(self, request, *args, **kwargs)
        replay, record = _claim(account=request.user, key=key, fingerprint=request_fingerprint(request))
        if replay is not None:
            return replay
        with _Heartbeat(record.pk):
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
