"""`make run`: migrate, make sure the demo account exists, start web + worker + scheduler, and once the server
answers /readyz print how to reach it, the demo API key last. Runs until Ctrl-C, then stops everything and exits 0.

Embedded default (no DATABASE_URL / REDIS_URL): SQLite and files under var/, a file-system Celery broker,
one web process. With DATABASE_URL / REDIS_URL / S3 settings the same command uses them. TRYON_HOST and
TRYON_PORT choose where the server listens (127.0.0.1:8000)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 90.0
STOP_GRACE_SECONDS = 15.0

# What MediaPipe's native code writes straight to the worker's stderr the first time the local engine runs (no
# setting silences it: its C++ logging is never initialised). Everything else a child prints gets through.
_NATIVE_CHATTER = re.compile(
    r"^(INFO: Created TensorFlow Lite XNNPACK delegate"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:.]+ +\d+ [\w.]+\.cc:\d+\] )"
)


def output_is_noise(line: str) -> bool:
    return bool(_NATIVE_CHATTER.match(line))


def port_is_free(*, host: str, port: int) -> bool:
    """Whether the server could listen there (SO_REUSEADDR like uvicorn: a closed socket in TIME_WAIT is free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def port_taken_message(*, host: str, port: int) -> str:
    return (
        f"Port {port} on {host} is already in use (another server, or a `make run` still running).\n"
        f"Stop it, or choose another port:  TRYON_PORT={port + 1} make run"
    )


def banner(*, base: str, embedded: bool, api_key: str) -> str:
    """What to print once the server answers; the key is the last line, so nothing printed before scrolls it."""
    mode = "embedded (SQLite + files under var/)" if embedded else "production settings"
    if not embedded:
        # No demo account outside embedded mode (its passwords are public): accounts come from the commands.
        return "\n".join(
            [
                "",
                f"Try-On API server is up: {mode}",
                f"  API base URL:  {base}/tryon/v1",
                f"  API docs:      {base}/tryon/v1/docs",
                f"  dashboard:     {base}/dashboard/",
                "  accounts:      python manage.py create_account <name>  (prints the account's API key)",
                "  Ctrl-C stops everything. One log line per request and per generation follows.",
                "",
            ]
        )
    return "\n".join(
        [
            "",
            f"Try-On API server is up: {mode}",
            f"  API base URL:  {base}/tryon/v1",
            f"  API docs:      {base}/tryon/v1/docs",
            f"  dashboard:     {base}/dashboard/  (merchant demo / demo-password, operator admin / admin-password)",
            f'  try it:        curl -H "x-api-key: {api_key}" {base}/tryon/v1/account/credits',
            "  Ctrl-C stops everything. One log line per request and per generation follows.",
            "",
            f"  demo API key:  {api_key}",
            "",
        ]
    )


def child_commands(*, host: str, port: int, embedded: bool) -> dict[str, list[str]]:
    web_workers = "1" if embedded else os.environ.get("WEB_CONCURRENCY", "2")
    worker_concurrency = os.environ.get("WORKER_CONCURRENCY", "2")
    return {
        # The project logs one line per request itself (tryon_project/api/access_log.py); uvicorn's own INFO
        # lines and the lifespan probe (Django has no lifespan handler) are left out.
        "web": [
            str(BIN / "uvicorn"),
            "tryon_project.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            web_workers,
            "--no-access-log",
            "--log-level",
            "warning",
            "--lifespan",
            "off",
            "--timeout-graceful-shutdown",
            "5",
        ],
        # --quiet: no banner. Logging follows the project's LOGGING (tryon_project/celery.py).
        "worker": [
            str(BIN / "celery"),
            "-A",
            "tryon_project",
            "--quiet",
            "worker",
            "--concurrency",
            worker_concurrency,
            "--without-gossip",
            "--without-mingle",
        ],
        "beat": [str(BIN / "celery"), "-A", "tryon_project", "--quiet", "beat"],
    }


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Celery warns at every start when run as root (containers, CI); `make run` is a local, single-user command.
    warnings = [w for w in env.get("PYTHONWARNINGS", "").split(",") if w]
    # By message: a category outside the standard library cannot be named here (-W options are read before
    # site-packages is on the path).
    env["PYTHONWARNINGS"] = ",".join([*warnings, "ignore:You're running the worker with superuser privileges"])
    return env


def manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return (result.stdout or "").strip()


def _relay(stream: IO[str], out: IO[str]) -> None:
    for line in stream:
        if not output_is_noise(line):
            out.write(line)
            out.flush()


def wait_ready(
    *, url: str, processes: dict[str, subprocess.Popen], timeout: float, stop: threading.Event
) -> str | None:
    """None once `url` answers 200; else why not (a child exited, the time ran out, or a stop was asked for)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        for name, process in processes.items():
            if process.poll() is not None:
                return f"the {name} process exited with status {process.returncode}"
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310 - our own http://host:port
        ):
            if response.status == 200:
                return None
        stop.wait(0.3)
    return "stopped" if stop.is_set() else f"{url} did not answer within {timeout:.0f} s"


@contextlib.contextmanager
def terminal_foreground() -> Iterator[None]:
    """Own the terminal's foreground, as a shell does for a job. make re-raises Ctrl-C on itself: it sends its
    recipe SIGTERM and exits 130 ("Interrupt") whatever the recipe returns. As the foreground process group this
    launcher alone gets Ctrl-C (the children run in groups of their own), stops the children, exits 0, and make
    exits 0 with it. Without a terminal, or when started in the background, nothing changes."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield
        return
    try:
        previous = os.tcgetpgrp(tty)
        if previous != os.getpgrp():
            yield
            return
        # Changing the foreground from what becomes a background group would stop us with SIGTTOU.
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        os.setpgid(0, 0)
        os.tcsetpgrp(tty, os.getpgrp())
        try:
            yield
        finally:
            os.tcsetpgrp(tty, previous)
    finally:
        os.close(tty)


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryon_project.settings")
    host = os.environ.get("TRYON_HOST", "127.0.0.1")
    port = int(os.environ.get("TRYON_PORT", "8000"))
    if not port_is_free(host=host, port=port):
        print(port_taken_message(host=host, port=port), file=sys.stderr)
        return 2
    embedded = not os.environ.get("DATABASE_URL")
    print("Preparing the database and the demo account ...", flush=True)
    manage("migrate", "--noinput", "-v", "0")
    # The demo account is refused outside embedded mode (its passwords are public).
    api_key = manage("bootstrap_demo", capture=True) if embedded else ""
    base = f"http://{host}:{port}"
    # Signed local-file URLs must point at the port this server really listens on.
    os.environ.setdefault("PUBLIC_BASE_URL", base)

    stopping = threading.Event()

    def request_stop(*_: object) -> None:
        stopping.set()

    with terminal_foreground():
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, request_stop)
        processes: dict[str, subprocess.Popen] = {}
        env = child_env()
        try:
            print("Starting the web server, the worker and the scheduler ...", flush=True)
            for name, command in child_commands(host=host, port=port, embedded=embedded).items():
                # A process group of its own: Ctrl-C reaches this launcher only, which stops each child once.
                process = subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    process_group=0,
                    text=True,
                    bufsize=1,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
                threading.Thread(target=_relay, args=(process.stdout, sys.stdout), daemon=True).start()
                processes[name] = process
            problem = wait_ready(
                url=f"{base}/readyz", processes=processes, timeout=READY_TIMEOUT_SECONDS, stop=stopping
            )
            if problem is not None and not stopping.is_set():
                print(f"The server did not start: {problem}.", file=sys.stderr)
                return 1
            if not stopping.is_set():
                print(banner(base=base, embedded=embedded, api_key=api_key), flush=True)
            while not stopping.is_set():
                exited = next((name for name, p in processes.items() if p.poll() is not None), None)
                if exited is not None:
                    print(
                        f"The {exited} process exited with status {processes[exited].returncode}; stopping.",
                        file=sys.stderr,
                    )
                    return 1
                stopping.wait(0.5)
            print("\nStopping ...", flush=True)
            return 0
        finally:
            _stop(processes)


if __name__ == "__main__":
    sys.exit(main())
