"""Celery tasks: each fetches by id and calls a service (docs/architecture.md)."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from generations.services.lifecycle import generation_fail
from generations.services.maintenance import generation_results_purge_expired, generations_reap
from generations.services.pipeline import GenerationFailure, ProcessStatus, generation_process
from tryon_project.api.errors import GenerationErrorCode

logger = logging.getLogger("tryon.generations")

# A provider's retry delay longer than this is not waited out in the queue (the generation would look stuck).
MAX_RETRY_AFTER_SECONDS = 900.0


def _backoff(retries: int) -> float:
    # Exponential backoff with jitter: 5 s, 10 s, 20 s ... (+ up to 50 %).
    return 5 * 2**retries * (1 + random.random() / 2)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, name="generations.run")
def generation_run(self, generation_id: str) -> str:
    last_attempt = self.request.retries + 1 >= settings.TRYON_MAX_ATTEMPTS
    try:
        return generation_process(generation_id=generation_id).status
    except GenerationFailure as exc:
        # Only retryable failures reach the task; terminal ones were recorded by the pipeline.
        if last_attempt:
            generation_fail(generation_id=generation_id, code=exc.code, message=exc.message)
            return ProcessStatus.FAILED
        # The provider said when to come back (a per-minute quota's RetryInfo, Retry-After): wait exactly that.
        countdown = min(exc.retry_after, MAX_RETRY_AFTER_SECONDS) if exc.retry_after else _backoff(self.request.retries)
        raise self.retry(countdown=countdown, exc=exc) from exc
    except SoftTimeLimitExceeded:
        generation_fail(
            generation_id=generation_id,
            code=GenerationErrorCode.GENERATION_TIMEOUT,
            message="The generation did not finish in time.",
        )
        return ProcessStatus.FAILED
    except Exception as exc:
        # Anything unexpected (a bug, the database or storage briefly away) is retried like a transient engine
        # error and ends FAILED with a refund when attempts run out: never a row stuck in PROCESSING.
        logger.exception("generation task crashed")
        if last_attempt:
            generation_fail(
                generation_id=generation_id, code=GenerationErrorCode.ENGINE_ERROR, message="The try-on engine failed."
            )
            return ProcessStatus.FAILED
        raise self.retry(countdown=_backoff(self.request.retries), exc=exc) from exc


@shared_task(name="generations.reap")
def generations_reap_task() -> dict:
    return generations_reap()


@shared_task(name="generations.purge_results")
def generation_results_purge_task() -> int:
    return generation_results_purge_expired()
