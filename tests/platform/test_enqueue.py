"""The one task-sending helper: by name, eager-aware, a broker failure logged (without arguments), never raised."""

from __future__ import annotations

import logging

import pytest
from kombu.exceptions import OperationalError

from tryon_project.celery import app
from tryon_project.enqueue import task_enqueue


@pytest.fixture(autouse=True)
def _tasks_loaded():
    app.loader.import_default_modules()


def test_sends_by_name_and_runs_eagerly(db, eager, monkeypatch):
    ran: list[tuple] = []
    task = app.tasks["generations.reap"]
    monkeypatch.setattr(task, "run", lambda *args: ran.append(args))
    assert task_enqueue(name="generations.reap", args=(), recovery="the beat") is True
    assert ran == [()]


def test_broker_failure_is_logged_not_raised(db, monkeypatch, caplog):
    task = app.tasks["generations.run"]

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(task, "apply_async", refuse)
    with caplog.at_level(logging.WARNING, logger="tryon.tasks"):
        assert task_enqueue(name="generations.run", args=("gen_secret123",), recovery="the reaper") is False
    assert [r.getMessage() for r in caplog.records] == [
        "could not enqueue generations.run (the reaper will retry): OperationalError"
    ]
    assert "gen_secret123" not in caplog.text


def test_unknown_task_name_is_an_error(db):
    with pytest.raises(KeyError):
        task_enqueue(name="no.such.task", recovery="nothing")
