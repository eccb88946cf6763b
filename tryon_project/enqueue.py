"""The one way application code sends a Celery task: by its registered name, so a service never imports a tasks
module (tasks import services, never the other way round), and a broker failure is logged, not raised.

Every caller has a recovery path for a message that never left (the generation reaper, the webhook sweep, the
periodic deletion run), which is why a broker outage must not fail the request or transaction that sends."""

from __future__ import annotations

import logging
import threading

from celery import Task

from tryon_project.celery import app

logger = logging.getLogger("tryon.tasks")
# The first sends of a web process race to import the tasks modules; a half-done import by another thread would
# answer NotRegistered, so the import runs once, under this lock.
_import_lock = threading.Lock()


def _task(name: str) -> Task:
    if name not in app.tasks:
        with _import_lock:
            if name not in app.tasks:
                # A web process has not imported the apps' tasks modules; Celery's autodiscovery does it once.
                app.loader.import_default_modules()
    return app.tasks[name]


def task_enqueue(*, name: str, args: tuple = (), countdown: float | None = None, recovery: str) -> bool:
    """Send task `name` with `args`; False (and a warning naming `recovery`, the job that catches up) when the
    broker is unreachable. The arguments are never logged: they are ids."""
    task = _task(name)
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception as exc:  # noqa: BLE001 - any broker failure is recovered by `recovery`; never raised
        logger.warning("could not enqueue %s (%s will retry): %s", name, recovery, type(exc).__name__)
        return False
    return True
