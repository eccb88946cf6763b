"""What the pipeline writes about hosted providers: the job id of a submitted provider job (so a retried attempt
resumes it), and the last provider error per account and engine (shown to the operator in the dashboard)."""

from __future__ import annotations

import logging

from django.utils import timezone

from engines.base import EngineError, EngineErrorCode
from generations.models import EngineProviderError, Generation, GenerationStatus

logger = logging.getLogger("tryon.generations")

# Failures that say something about the provider (key, quota, model id, availability), not about the shopper's
# photo or the product: these are what an operator acts on.
PROVIDER_ERROR_CODES = frozenset(
    {EngineErrorCode.ENGINE_ERROR, EngineErrorCode.ENGINE_QUOTA_EXCEEDED, EngineErrorCode.GENERATION_TIMEOUT}
)


def generation_provider_job_save(*, generation_id: str, attempt: int, job_id: str) -> bool:
    """Keep the provider's job id on the generation, fenced like every worker write: only the attempt that holds
    the row (still PROCESSING with this attempt number) may set it. True when written."""
    updated = Generation.objects.filter(id=generation_id, status=GenerationStatus.PROCESSING, attempts=attempt).update(
        provider_job_id=job_id[:200], updated_at=timezone.now()
    )
    if not updated:
        logger.info("provider job id not kept: the attempt no longer holds the generation")
    return bool(updated)


def engine_provider_error_record(*, account_id: int, engine: str, model_id: str, error: EngineError) -> bool:
    """Overwrite the account's last provider error for `engine`. Errors about the inputs are not recorded.
    True when recorded."""
    if error.code not in PROVIDER_ERROR_CODES:
        return False
    EngineProviderError.objects.update_or_create(
        account_id=account_id,
        engine=engine[:50],
        defaults={
            "model_id": model_id[:200],
            "code": str(error.code),
            "message": error.message[:500],
            "retryable": error.retryable,
            "occurred_at": timezone.now(),
        },
    )
    return True


def engine_failure_record(*, generation: Generation, engine: object, error: EngineError) -> bool:
    """The pipeline's one call after an engine failed: keeps the error as the account engine's last provider error
    under the name the account's generations run on (its override or the server default)."""
    from generations.engine_config import engine_registry

    return engine_provider_error_record(
        account_id=generation.account_id,
        engine=generation.engine or engine_registry().default,
        model_id=str(getattr(engine, "version", "") or ""),
        error=error,
    )
