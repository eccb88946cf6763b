"""One log line per generation attempt in the worker: its gen_ id, the engine, the outcome and, when it ended,
the timings or the error code (never the error message, which may quote a provider, nor any URL or customer id).

Celery's task signals carry the task's arguments and outcome; the line is written here rather than in the task
so that the task stays a plain call to the pipeline (docs/architecture.md)."""

from __future__ import annotations

import logging

from celery.signals import task_postrun, task_retry

from generations.models import Generation

logger = logging.getLogger("tryon.generations")

TASK = "generations.run"


def _generation_id(args, kwargs) -> str | None:
    if args:
        return str(args[0])
    return (kwargs or {}).get("generation_id")


def generation_attempt_line(*, generation_id: str, outcome: str) -> str:
    """The log line for an attempt that ended with `outcome` (the task's return value or Celery state)."""
    row = (
        Generation.objects.filter(id=generation_id)
        .values("engine", "attempts", "error_code", "timings", "duration_ms")
        .first()
    )
    if row is None:
        return f"generation {generation_id} {outcome} (row gone)"
    timings = row["timings"] or {}
    engine = timings.get("engine") or row["engine"] or "-"
    parts = [f"generation {generation_id} {outcome}", f"engine={engine}", f"attempt={row['attempts']}"]
    if outcome == "completed":
        parts += [f"engine_ms={timings.get('engine_ms')}", f"total_ms={row['duration_ms']}"]
    elif outcome == "failed":
        parts.append(f"code={row['error_code']}")
    return " ".join(parts)


@task_postrun.connect(dispatch_uid="generations_worker_log_postrun")
def _attempt_ended(sender=None, task=None, args=None, kwargs=None, retval=None, state=None, **extra) -> None:
    if task is None or task.name != TASK or state == "RETRY":
        return  # retries are logged by _attempt_retried
    generation_id = _generation_id(args, kwargs)
    if generation_id is None:
        return
    outcome = str(retval) if state == "SUCCESS" else f"crashed ({state})"
    logger.info("%s", generation_attempt_line(generation_id=generation_id, outcome=outcome))


@task_retry.connect(dispatch_uid="generations_worker_log_retry")
def _attempt_retried(sender=None, request=None, reason=None, **extra) -> None:
    if sender is None or getattr(sender, "name", None) != TASK or request is None:
        return
    generation_id = _generation_id(request.args, request.kwargs)
    if generation_id is None:
        return
    # The Retry is raised while the failure is handled: the failure is its cause or context (its `exc` is only a
    # pickle-safe wrapper).
    cause = getattr(reason, "__cause__", None) or getattr(reason, "__context__", None) or reason
    code = getattr(getattr(cause, "code", None), "name", None) or getattr(cause, "code", None) or type(cause).__name__
    logger.info("%s", generation_attempt_line(generation_id=generation_id, outcome=f"retrying code={code}"))
