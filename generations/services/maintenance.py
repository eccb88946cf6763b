"""Periodic work: the reaper for stuck generations and the purge of expired results."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generations.models import Generation, GenerationStatus
from generations.services.lifecycle import generation_enqueue, generation_fail, generation_requeue
from tryon_project.api.errors import GenerationErrorCode
from tryon_project.storage import blob_deletions_schedule

logger = logging.getLogger("tryon.generations")


def _processing_stale_after() -> timedelta:
    # A live worker finishes or is killed by the hard time limit well before this.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def generations_reap(*, batch_size: int = 200) -> dict[str, int]:
    """Recover generations that no worker will finish:
    - PENDING for too long (the broker was down at commit, or the message was lost): sent again;
    - PROCESSING past the hard time limit (the worker died and the message did not come back): handed back to
      PENDING and sent again while attempts remain, else FAILED with GENERATION_TIMEOUT (credit refunded)."""
    now = timezone.now()
    pending_before = now - timedelta(seconds=settings.TRYON_REAPER_PENDING_AFTER_SECONDS)
    stats = {"resent": 0, "requeued": 0, "timed_out": 0}
    stuck_processing = list(
        Generation.objects.filter(
            status=GenerationStatus.PROCESSING, updated_at__lt=now - _processing_stale_after()
        ).values_list("id", "attempts")[:batch_size]
    )
    for generation_id, attempts in stuck_processing:
        if attempts >= settings.TRYON_MAX_ATTEMPTS:
            if generation_fail(
                generation_id=generation_id,
                code=GenerationErrorCode.GENERATION_TIMEOUT,
                message="The generation did not finish in time.",
                statuses=(GenerationStatus.PROCESSING,),
            ):
                stats["timed_out"] += 1
        elif generation_requeue(generation_id=generation_id):
            generation_enqueue(generation_id=generation_id)
            stats["requeued"] += 1
    stale_pending = list(
        Generation.objects.filter(status=GenerationStatus.PENDING, updated_at__lt=pending_before).values_list(
            "id", flat=True
        )[:batch_size]
    )
    for generation_id in stale_pending:
        # Touch first so that a second reaper running at once does not send it twice in the same round.
        if Generation.objects.filter(
            id=generation_id, status=GenerationStatus.PENDING, updated_at__lt=pending_before
        ).update(updated_at=now):
            generation_enqueue(generation_id=generation_id)
            stats["resent"] += 1
    if any(stats.values()):
        logger.info("reaper: %s", stats)
    return stats


def generation_results_purge_expired(*, batch_size: int = 500) -> int:
    """Delete result images past their retention. The rows stay (they feed stats) with `resultDeleted`."""
    now = timezone.now()
    with transaction.atomic():
        expired = list(
            Generation.objects.filter(result_expires_at__lte=now)
            .exclude(result_key="")
            .select_for_update(skip_locked=True)
            .values_list("id", "result_key")[:batch_size]
        )
        if not expired:
            return 0
        blob_deletions_schedule(keys=[key for _, key in expired])
        Generation.objects.filter(id__in=[generation_id for generation_id, _ in expired]).update(
            result_key="", result_deleted=True, updated_at=now
        )
    return len(expired)
