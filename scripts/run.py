"""`make run`: migrate, make sure the demo account exists, print how to reach it, then run web + worker +
scheduler together until Ctrl-C.

Embedded default (no DATABASE_URL / REDIS_URL): SQLite and files under var/, a file-system Celery broker,
one web process. With DATABASE_URL / REDIS_URL / S3 settings the same command uses them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("TRYON_HOST", "127.0.0.1")
PORT = os.environ.get("TRYON_PORT", "8000")


def manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, check=True, text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return (result.stdout or "").strip()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryon_project.settings")
    embedded = not os.environ.get("DATABASE_URL")
    manage("migrate", "--noinput", "-v", "0")
    api_key = manage("bootstrap_demo", capture=True)
    base = f"http://{HOST}:{PORT}"
    # Signed local-file URLs must point at the port this server really listens on.
    os.environ.setdefault("PUBLIC_BASE_URL", base)
    web_workers = "1" if embedded else os.environ.get("WEB_CONCURRENCY", "2")
    worker_concurrency = os.environ.get("WORKER_CONCURRENCY", "2")
    commands = [
        [str(BIN / "uvicorn"), "tryon_project.asgi:application", "--host", HOST, "--port", PORT,
         "--workers", web_workers, "--no-access-log", "--timeout-graceful-shutdown", "5"],
        [str(BIN / "celery"), "-A", "tryon_project", "worker", "--loglevel", "INFO",
         "--concurrency", worker_concurrency, "--without-gossip", "--without-mingle"],
        [str(BIN / "celery"), "-A", "tryon_project", "beat", "--loglevel", "WARNING"],
    ]
    print(
        "\n".join(
            [
                "",
                "Try-On API server",
                f"  mode:          {'embedded (SQLite + files under var/)' if embedded else 'production settings'}",
                f"  API base URL:  {base}/tryon/v1",
                f"  API docs:      {base}/tryon/v1/docs",
                f"  dashboard:     {base}/dashboard/  (merchant demo / demo-password, operator admin / admin-password)",
                f"  demo API key:  {api_key}",
                "",
                f'  try it:  curl -H "x-api-key: {api_key}" {base}/tryon/v1/account/credits',
                "  Ctrl-C stops everything.",
                "",
            ]
        ),
        flush=True,
    )
    processes = [subprocess.Popen(command, cwd=ROOT) for command in commands]

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        exit_code = next((p.returncode for p in processes if p.poll() not in (None, 0)), 0)
    finally:
        stop()
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
