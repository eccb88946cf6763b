"""Pixel amplification: resident memory and CPU of a real web process fed worst-case images, with the decoding
bounds off (the baseline, measured in the same run) and at their defaults.

The worst case is a 120 KB PNG declaring 6000x6000 pixels, under the 40 MP limit, which decodes to 144 MB. Two
loads: 24 such uploads at once (`POST /images/upload`), peak RSS sampled from outside with psutil; and one
`POST /products` with 20 such parts, the server's CPU seconds for that one request. The bounds off means
`TRYON_IMAGE_DECODE_PIXELS` and `TRYON_MAX_REQUEST_PIXELS` set far above any request; everything else is the
embedded default.

    .venv/bin/python bench/pixels.py   (from the repository root; starts its own uvicorn twice)
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FLOOD = 24
PARTS = 20
UNBOUNDED = str(10**12)


def worst_case_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 6000), (200, 60, 40)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 750), (40, 90, 160)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(var_dir: Path, **overrides: str) -> tuple[subprocess.Popen, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tryon_project.settings",
        DATABASE_URL="",
        REDIS_URL="",
        TRYON_VAR_DIR=str(var_dir),
        TRYON_RATE_LIMIT_PER_MINUTE="1000",
        **overrides,
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    key = subprocess.run(
        [*manage, "bootstrap_demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "uvicorn"), "tryon_project.asgi:application", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return process, base, key
        except requests.RequestException:  # not listening yet, or too busy starting
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("uvicorn did not start")


def upload(base: str, key: str, data: bytes, name: str) -> int:
    response = requests.post(
        f"{base}/tryon/v1/images/upload", headers={"x-api-key": key}, files={"file": (name, data)}, timeout=300
    )
    return response.status_code


def flood(process: psutil.Process, base: str, key: str, png: bytes) -> tuple[float, list[int]]:
    peak = process.memory_info().rss
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, process.memory_info().rss)
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with ThreadPoolExecutor(FLOOD) as pool:
        statuses = list(pool.map(lambda i: upload(base, key, png, f"big-{i}.png"), range(FLOOD)))
    stop.set()
    sampler.join()
    return peak / 2**20, statuses


def product_with_parts(process: psutil.Process, base: str, key: str, png: bytes) -> tuple[float, int]:
    data = {"externalId": "twenty-parts", "title": "Tee", "images": [{"fileKey": f"p{i}"} for i in range(PARTS)]}
    files = {f"p{i}": (f"p{i}.png", png) for i in range(PARTS)}
    before = process.cpu_times()
    response = requests.post(
        f"{base}/tryon/v1/products",
        headers={"x-api-key": key},
        data={"data": json.dumps(data)},
        files=files,
        timeout=600,
    )
    after = process.cpu_times()
    return (after.user - before.user) + (after.system - before.system), response.status_code


def measure(label: str, png: bytes, **overrides: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"bench-pixels-{label}-") as var_dir:
        popen, base, key = start(Path(var_dir), **overrides)
        try:
            process = psutil.Process(popen.pid)
            # Load what the first upload loads once per process (the person crop's pose model).
            upload(base, key, small_jpeg(), "warm.jpg")
            idle = process.memory_info().rss / 2**20
            peak, statuses = flood(process, base, key, png)
            cpu, status = product_with_parts(process, base, key, png)
        finally:
            popen.terminate()
            popen.wait(timeout=30)
    print(f"# {label}: flood statuses {sorted(statuses)}; 20-part product {status}")
    return {
        "idle_mb": idle,
        "peak_mb": peak,
        "stored": statuses.count(201),
        "busy": statuses.count(503),
        "cpu_s": cpu,
        "status": status,
    }


def report(name: str, figures: dict[str, float]) -> None:
    print(
        f"pixels.flood24.idle_mb.{name}={figures['idle_mb']:.0f} "
        f"pixels.flood24.rss_peak_mb.{name}={figures['peak_mb']:.0f} "
        f"pixels.flood24.stored.{name}={figures['stored']} pixels.flood24.busy_503.{name}={figures['busy']}"
    )
    print(f"pixels.product20.cpu_s.{name}={figures['cpu_s']:.1f} pixels.product20.status.{name}={figures['status']}")
    sys.stdout.flush()


def main() -> None:
    png = worst_case_png()
    print(f"pixels.worst_case.bytes={len(png)} pixels.worst_case.pixels={6000 * 6000}")
    before = measure("unbounded", png, TRYON_IMAGE_DECODE_PIXELS=UNBOUNDED, TRYON_MAX_REQUEST_PIXELS=UNBOUNDED)
    report("before", before)
    after = measure("bounded", png)
    report("after", after)
    print(f"pixels.flood24.rss_peak_ratio={after['peak_mb'] / before['peak_mb']:.2f}")
    print(f"pixels.product20.cpu_ratio={after['cpu_s'] / before['cpu_s']:.2f}")


if __name__ == "__main__":
    main()
