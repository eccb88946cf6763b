"""Storage deletions run on a queue of their own: an erasure's deletion job is never queued behind generations,
and every documented worker command (and the embedded mode) consumes that queue."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.db import transaction
from kombu.transport.memory import Channel

from generations.services.lifecycle import generation_enqueue
from tryon_project.celery import app as celery_app
from tryon_project.storage import DELETE_TASK, blob_deletions_schedule

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("tryon_run_script_queues", ROOT / "scripts" / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def _queued_task_names() -> dict[str, list[str]]:
    """What the in-memory broker of the tests holds, per queue, in order."""
    return {
        name: [message["headers"]["task"] for message in queue.queue]
        for name, queue in Channel.queues.items()
        if queue.qsize()
    }


@pytest.fixture
def empty_broker():
    for queue in Channel.queues.values():
        queue.queue.clear()
    yield
    for queue in Channel.queues.values():
        queue.queue.clear()


@pytest.mark.django_db
def test_a_deletion_is_not_queued_behind_generations(empty_broker, django_capture_on_commit_callbacks):
    for number in range(30):
        generation_enqueue(generation_id=f"gen_backlog{number}")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        blob_deletions_schedule(keys=["customer/2026/12/02/erased.jpg"])

    queued = _queued_task_names()
    # First in its own queue, not 31st behind the generations.
    assert queued == {"celery": ["generations.run"] * 30, "deletions": [DELETE_TASK]}


def test_the_deletions_queue_is_declared_and_routed():
    assert {"celery", "deletions"} <= set(celery_app.amqp.queues)
    assert celery_app.amqp.router.route({}, DELETE_TASK)["queue"].name == "deletions"
    assert celery_app.amqp.router.route({}, "generations.run")["queue"].name == "celery"


def _worker_commands() -> dict[str, list[str]]:
    """Every documented way to start a worker: Procfile, compose, the systemd units, and `make run`."""
    commands: dict[str, list[str]] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        commands[f"Procfile {name}"] = shlex.split(command)
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        if isinstance(service.get("command"), str):
            commands[f"compose {name}"] = shlex.split(service["command"])
    for unit in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        exec_start = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.MULTILINE)
        if exec_start:
            commands[unit.name] = shlex.split(exec_start.group(1))
    for embedded in (True, False):
        commands[f"make run (embedded={embedded})"] = run.child_commands(
            host="127.0.0.1", port=8000, embedded=embedded
        )["worker"]
    return {where: argv for where, argv in commands.items() if "worker" in argv and any("celery" in a for a in argv)}


def _consumed_queues(argv: list[str]) -> set[str]:
    # Without -Q a worker consumes every declared queue (CELERY_TASK_QUEUES).
    for flag in ("-Q", "--queues"):
        if flag in argv:
            return set(argv[argv.index(flag) + 1].split(","))
    return set(celery_app.amqp.queues)


def test_every_documented_worker_command_consumes_the_deletions_queue():
    commands = _worker_commands()
    assert {"Procfile worker", "compose worker", "tryon-worker.service", "make run (embedded=True)"} <= set(commands)
    for where, argv in commands.items():
        assert "deletions" in _consumed_queues(argv), where
    # Production layouts also run a worker of deletions only, which never waits for a generation to free a slot.
    dedicated = {where for where, argv in commands.items() if _consumed_queues(argv) == {"deletions"}}
    assert dedicated == {"Procfile deletions", "compose deletions", "tryon-deletions.service"}
