"""What a worker does with one generation: claim, gather the images, run the engine, watermark, store, finish."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from engines.base import Category, EngineError, TryOnRequest
from generations.engine_config import engine_get
from generations.engine_options import engine_options_build
from generations.models import Generation
from generations.services.lifecycle import Claim, generation_claim, generation_complete, generation_fail
from generations.services.provider import engine_failure_record, generation_provider_job_save
from products.services import ProductImageUnavailable, snapshot_image_bytes
from tryon_project.api.errors import GenerationErrorCode
from tryon_project.storage import blob_discard, blob_read, blob_save
from watermark.services import watermark_apply_for_account

logger = logging.getLogger("tryon.generations")


class GenerationFailure(Exception):
    """Why a generation cannot finish, with its code from the one catalogue. `retryable` failures are retried by
    the task with backoff while attempts remain; the others end the generation FAILED at once."""

    def __init__(
        self, *, code: GenerationErrorCode, message: str, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        # The provider's own delay before a retry (RetryInfo, Retry-After); None: the task's backoff decides.
        self.retry_after = retry_after

    @classmethod
    def from_engine(cls, exc: EngineError) -> GenerationFailure:
        # Total: every EngineErrorCode is a GenerationErrorCode member of the same name (a test proves it).
        return cls(
            code=GenerationErrorCode[exc.code.name],
            message=exc.message,
            retryable=exc.retryable,
            retry_after=exc.retry_after,
        )


class ProcessStatus(enum.StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    # Nothing to do: terminal already, or out of attempts.
    SKIPPED = "skipped"
    # Fenced off while running (erased user, reaped or redelivered job): the result was discarded.
    STALE = "stale"


@dataclass(frozen=True)
class ProcessOutcome:
    status: ProcessStatus


def _product_images(*, generation: Generation) -> tuple[bytes, ...]:
    try:
        return tuple(snapshot_image_bytes(snapshot=generation.product_snapshot))
    except ProductImageUnavailable as exc:
        raise GenerationFailure(code=exc.code, message=exc.message, retryable=exc.retryable) from exc


def _watermark(*, generation: Generation, image: bytes) -> bytes:
    """Composite the account's logo when the call wants it and the account has one enabled."""
    if not generation.use_watermark:
        return image
    return watermark_apply_for_account(account=generation.account, image=image)


def generation_process(*, generation_id: str) -> ProcessOutcome:
    """Run one attempt. Raises :class:`GenerationFailure` (retryable ones only) for the task to retry; a terminal
    failure ends the generation FAILED here (credit refunded) and returns FAILED."""
    claim = generation_claim(generation_id=generation_id)
    if claim is None:
        return ProcessOutcome(status=ProcessStatus.SKIPPED)
    generation = claim.generation
    started = time.perf_counter()
    try:
        try:
            person = blob_read(key=generation.person_image_key)
        except (OSError, ValueError) as exc:
            raise GenerationFailure(
                code=GenerationErrorCode.CUSTOMER_IMAGE_INVALID, message="The customer image is no longer available."
            ) from exc
        garments = _product_images(generation=generation)
        snapshot = generation.product_snapshot
        engine = engine_get(name=generation.engine or None)
        fetched_ms = (time.perf_counter() - started) * 1000
        try:
            result = engine.run(
                TryOnRequest(
                    person_image=person,
                    garment_images=garments,
                    title=snapshot.get("title") or "",
                    description=snapshot.get("description") or "",
                    category=Category(snapshot.get("category") or "auto"),
                    options=engine_options_build(stored=generation.engine_options),
                    # A provider job an earlier attempt submitted is resumed, never submitted (and paid for) twice.
                    resume_job_id=generation.provider_job_id,
                    on_job_submitted=_job_recorder(claim=claim),
                )
            )
        except EngineError as exc:
            engine_failure_record(generation=generation, engine=engine, error=exc)
            raise GenerationFailure.from_engine(exc) from exc
    except GenerationFailure as failure:
        if failure.retryable:
            raise
        generation_fail(generation_id=generation.id, code=failure.code, message=failure.message, attempt=claim.attempt)
        return ProcessOutcome(status=ProcessStatus.FAILED)
    image = _watermark(generation=generation, image=result.image)
    return _store_and_finish(
        claim=claim,
        image=image,
        content_type=result.content_type,
        timings={
            "inputs_ms": round(fetched_ms, 1),
            "engine_ms": _engine_ms(timings=result.timings_ms),
            "engine": result.engine,
            "engine_version": result.engine_version,
            "total_ms": round((time.perf_counter() - started) * 1000, 1),
            # Per-call options this engine could not honour (docs/api.md), so the merchant can see they were ignored.
            **({"ignored_options": ignored} if (ignored := result.diagnostics.get("ignored_options")) else {}),
        },
    )


def _job_recorder(*, claim: Claim) -> Callable[[str], None]:
    """What the engine calls once it submitted a provider job: the job id is saved under this attempt's fence."""

    def record(job_id: str) -> None:
        generation_provider_job_save(generation_id=claim.generation.id, attempt=claim.attempt, job_id=job_id)

    return record


def _engine_ms(*, timings: dict[str, float]) -> float | None:
    """The engine's own wall time: its `total` when it reports one (the other entries are stages inside it, so
    adding them all counts the time twice), else the sum of its stages."""
    if not timings:
        return None
    return round(timings["total"] if "total" in timings else sum(timings.values()), 1)


def _store_and_finish(*, claim: Claim, image: bytes, content_type: str, timings: dict) -> ProcessOutcome:
    key = blob_save(kind="result", data=image, content_type=content_type)
    if generation_complete(claim=claim, result_key=key, timings=timings):
        return ProcessOutcome(status=ProcessStatus.COMPLETED)
    # Fenced off (erased user, reaped or redelivered job): the row is not ours, so neither is the object.
    blob_discard(keys=[key])
    logger.info("stale worker discarded its result")
    return ProcessOutcome(status=ProcessStatus.STALE)
