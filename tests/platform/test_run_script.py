"""`make run`'s launcher (scripts/run.py): the pieces that decide what a newcomer sees."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "run.py"
_spec = importlib.util.spec_from_file_location("tryon_run_script", _PATH)
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

# Written by MediaPipe's native code the first time the local engine runs, as captured from a worker.
CHATTER = [
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "W0000 00:00:1796170140.292169   24884 inference_feedback_manager.cc:114] Feedback manager requires a model with "
    "a single signature inference. Disabling support for feedback tensors.",
    "W0000 00:00:1796170140.765843   24883 landmark_projection_calculator.cc:186] Using NORM_RECT without "
    "IMAGE_DIMENSIONS is only supported for the square ROI.",
]


@pytest.mark.parametrize("line", CHATTER)
def test_native_chatter_is_dropped(line):
    assert run.output_is_noise(line + "\n")


@pytest.mark.parametrize(
    "line",
    [
        "2026-12-02 00:15:58,184 INFO tryon.generations [-] generation gen_x completed engine=local attempt=1",
        "E0000 00:00:1796170140.292169   24884 calculator_graph.cc:1] a real native error",
        "worker: Warm shutdown (MainProcess)",
        "Traceback (most recent call last):",
    ],
)
def test_everything_else_gets_through(line):
    assert not run.output_is_noise(line)


def test_a_taken_port_is_detected_and_explained():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert run.port_is_free(host="127.0.0.1", port=port) is False
    assert run.port_is_free(host="127.0.0.1", port=port) is True
    message = run.port_taken_message(host="127.0.0.1", port=8000)
    assert "Port 8000 on 127.0.0.1 is already in use" in message
    assert "TRYON_PORT=8001 make run" in message


def test_main_stops_before_touching_anything_when_the_port_is_taken(monkeypatch, capsys):
    calls: list[tuple] = []
    monkeypatch.setattr(run, "manage", lambda *args, **kwargs: calls.append(args))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setenv("TRYON_HOST", "127.0.0.1")
        monkeypatch.setenv("TRYON_PORT", str(listener.getsockname()[1]))
        assert run.main() == 2
    assert calls == []  # no migration, no demo account, no child process
    assert "already in use" in capsys.readouterr().err


def test_the_banner_ends_with_the_key():
    text = run.banner(base="http://127.0.0.1:8000", embedded=True, api_key="tok_abc")
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[-1] == "  demo API key:  tok_abc"
    assert "http://127.0.0.1:8000/tryon/v1/docs" in text and "embedded" in text


def test_children_are_started_quiet():
    commands = run.child_commands(host="127.0.0.1", port=8123, embedded=True)
    web = commands["web"]
    assert web[web.index("--port") + 1] == "8123" and web[web.index("--workers") + 1] == "1"
    for flag in ("--no-access-log", "--lifespan"):
        assert flag in web
    assert web[web.index("--log-level") + 1] == "warning" and web[web.index("--lifespan") + 1] == "off"
    for name in ("worker", "beat"):
        assert commands[name][3] == "--quiet", commands[name]


def test_the_root_warning_is_silenced_and_other_warnings_kept(monkeypatch):
    monkeypatch.setenv("PYTHONWARNINGS", "error::DeprecationWarning")
    env = run.child_env()
    assert env["PYTHONWARNINGS"].startswith("error::DeprecationWarning,")
    probe = (
        "import warnings\n"
        'warnings.warn("You\'re running the worker with superuser privileges: this is absolutely not recommended!")\n'
        "warnings.warn('another warning')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert "superuser" not in result.stderr
    assert "another warning" in result.stderr
