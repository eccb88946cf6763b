"""The generation state machine, written only with conditional updates.

PENDING → PROCESSING (claim: attempt + 1) → COMPLETED | FAILED. A worker may finish a generation only while it is
still PROCESSING under the attempt it claimed, so a stale worker (redelivered task, erased user, reaped job) can
never overwrite the row. A failure refunds the reserved credit exactly once (the ledger's unique constraint)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import credits_refund
from generations.models import Generation, GenerationStatus
from tryon_project.api.errors import GenerationErrorCode
from tryon_project.enqueue import task_enqueue

logger = logging.getLogger("tryon.generations")

IN_FLIGHT = (GenerationStatus.PENDING, GenerationStatus.PROCESSING)


@dataclass(frozen=True)
class Claim:
    generation: Generation
    attempt: int


def generation_claim(*, generation_id: str) -> Claim | None:
    """Take the generation for this worker. A PROCESSING row may be re-claimed (a redelivered task after a worker
    died); the attempt counter fences off the previous holder. None when it is terminal or out of attempts."""
    now = timezone.now()
    claimed = Generation.objects.filter(
        id=generation_id, status__in=IN_FLIGHT, attempts__lt=settings.TRYON_MAX_ATTEMPTS
    ).update(status=GenerationStatus.PROCESSING, attempts=F("attempts") + 1, started_at=now, updated_at=now)
    if not claimed:
        return None
    generation = Generation.objects.select_related("account").get(id=generation_id)
    return Claim(generation=generation, attempt=generation.attempts)


def generation_complete(*, claim: Claim, result_key: str, timings: dict | None = None) -> bool:
    """Finish as COMPLETED; False when this worker no longer holds the generation (the caller must then delete
    the object it stored)."""
    generation = claim.generation
    now = timezone.now()
    duration_ms = max(0, int((now - generation.created_at).total_seconds() * 1000))
    # One transaction with the subscribers' writes: the webhook event (an outbox row) exists if and only if the
    # generation is COMPLETED, whatever happens to the process after the commit.
    with transaction.atomic():
        completed = bool(
            Generation.objects.filter(
                id=generation.id, status=GenerationStatus.PROCESSING, attempts=claim.attempt
            ).update(
                status=GenerationStatus.COMPLETED,
                result_key=result_key,
                result_expires_at=now + timedelta(days=generation.retention_days),
                completed_at=now,
                updated_at=now,
                duration_ms=duration_ms,
                timings=timings or {},
            )
        )
        if completed:
            generation_terminal_notify(
                generation_id=generation.id, account_id=generation.account_id, webhook_url=generation.webhook_url
            )
    return completed


def generation_fail(
    *,
    generation_id: str,
    code: GenerationErrorCode,
    message: str,
    attempt: int | None = None,
    statuses: tuple[GenerationStatus, ...] = IN_FLIGHT,
) -> bool:
    """Move a non-terminal generation to FAILED and refund its credit, in one transaction. With `attempt`, only the
    holder of that attempt may do it. Returns False when the row was already terminal (nothing refunded)."""
    now = timezone.now()
    with transaction.atomic():
        rows = Generation.objects.filter(id=generation_id, status__in=statuses)
        if attempt is not None:
            rows = rows.filter(attempts=attempt)
        row = rows.select_for_update().values("account_id", "created_at", "webhook_url").first()
        if row is None:
            return False
        Generation.objects.filter(id=generation_id).update(
            status=GenerationStatus.FAILED,
            error_code=code.name,
            error_message=message[:500],
            completed_at=now,
            updated_at=now,
            duration_ms=max(0, int((now - row["created_at"]).total_seconds() * 1000)),
        )
        credits_refund(account_id=row["account_id"], generation_ref=generation_id, reason=code.name)
        generation_terminal_notify(
            generation_id=generation_id, account_id=row["account_id"], webhook_url=row["webhook_url"]
        )
    logger.info("generation failed: %s", code.name)
    return True


# Called, inside the transaction that made a generation terminal, with its id, account id and per-call webhook URL.
TerminalSubscriber = Callable[..., None]

_terminal_subscribers: list[TerminalSubscriber] = []


def generation_terminal_subscribe(subscriber: TerminalSubscriber) -> None:
    """Be told of every generation that becomes COMPLETED or FAILED. Apps above generations (webhooks) subscribe
    in their AppConfig.ready(), so generations never imports them. Registering the same function twice is one
    subscription."""
    if subscriber not in _terminal_subscribers:
        _terminal_subscribers.append(subscriber)


def generation_terminal_notify(*, generation_id: str, account_id: int, webhook_url: str) -> None:
    """Tell the subscribers that a generation just became terminal; runs inside the transaction that made it so,
    so what a subscriber writes commits or rolls back with the status change (a subscriber that must act after
    commit registers its own on_commit callback)."""
    for subscriber in _terminal_subscribers:
        subscriber(generation_id=generation_id, account_id=account_id, webhook_url=webhook_url)


def generation_enqueue(*, generation_id: str) -> None:
    """Send the worker task; if the broker is down the row stays PENDING and the reaper sends it again later."""
    task_enqueue(name="generations.run", args=(generation_id,), recovery="the reaper")


def generation_requeue(*, generation_id: str) -> bool:
    """Hand a PROCESSING generation whose worker vanished back to PENDING (the reaper does this)."""
    return bool(
        Generation.objects.filter(id=generation_id, status=GenerationStatus.PROCESSING).update(
            status=GenerationStatus.PENDING, updated_at=timezone.now()
        )
    )
