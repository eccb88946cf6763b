"""End to end on the production stack: customer photo upload -> POST /try-on -> COMPLETED, with the local engine
and 2 Celery workers (concurrency 1 each), PostgreSQL, Redis and uvicorn.

Two clients run in a closed loop (one per worker, so the figure is the pipeline, not queueing): each uploads a
photo, starts a try-on against a catalog product, and polls every 50 ms until the generation is terminal. The
baseline, measured in this process in the same run, is the local engine alone on the same person and garment:
`e2e.ratio_p50_to_engine` is what the whole trip (HTTP, storage, queue, claim, watermark, result) costs on top of
the work itself. Worker RSS (each worker's process tree, psutil) is sampled after warm-up and at the end.

    .venv/bin/python bench/e2e.py [--generations 50]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import celery_workers, machine, manage, percentile, stack_env, web  # noqa: E402

CLIENTS = 2
POLL_SECONDS = 0.05


def person_jpeg() -> bytes:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        image = Image.open(handle).convert("RGB")
    return jpeg(image)


def garment_jpeg() -> bytes:
    from vision.synthetic import synthetic_tshirt

    return jpeg(Image.fromarray(synthetic_tshirt(pattern="logo").image))


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def tree_rss_mb(process: psutil.Process) -> float:
    members = [process, *process.children(recursive=True)]
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def engine_baseline_ms(person: bytes, garment: bytes, runs: int = 15) -> float:
    """The local engine alone, warm, on the photo the clients upload."""
    from engines.base import Category, TryOnRequest
    from engines.local import LocalEngine

    engine = LocalEngine()
    request = TryOnRequest(person_image=person, garment_images=(garment,), category=Category.TOPS)
    for _ in range(2):
        engine.run(request)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.run(request)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def one_generation(session: requests.Session, base: str, key: str, person: bytes) -> tuple[float, str, str]:
    started = time.perf_counter()
    upload = session.post(
        f"{base}/images/upload",
        headers={"x-api-key": key},
        timeout=60,
        files={"file": ("me.jpg", person, "image/jpeg")},
        data={"crop": "true"},
    )
    assert upload.status_code == 201, upload.text
    accepted = session.post(
        f"{base}/try-on",
        headers={"x-api-key": key},
        timeout=60,
        json={"product": {"externalId": "e2e-tee"}, "customer": {"id": upload.json()["imageId"]}},
    )
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["generationId"]
    while True:
        body = session.get(f"{base}/generations/{generation_id}", headers={"x-api-key": key}, timeout=60).json()
        if body["status"] in ("COMPLETED", "FAILED"):
            return (time.perf_counter() - started) * 1000, body["status"], body.get("errorCode", "")
        time.sleep(POLL_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=50)
    total = max(50, parser.parse_args().generations)
    person, garment = person_jpeg(), garment_jpeg()
    var_dir = Path(tempfile.mkdtemp(prefix="tryon-bench-e2e-"))
    env = stack_env(var_dir, TRYON_ENGINE="local", TRYON_RATE_LIMIT_PER_MINUTE="100000000")
    manage(env, "migrate", "--noinput")
    key = manage(
        env, "create_account", f"bench-e2e-{int(time.time())}", "--credits", "100000", "--rate-limit", "100000000"
    )
    latencies: list[float] = []
    outcomes: list[tuple[str, str]] = []
    with web(env, workers=2) as port, celery_workers(env, count=2, concurrency=1) as workers:
        base = f"http://127.0.0.1:{port}/tryon/v1"
        product = requests.post(
            f"{base}/products",
            headers={"x-api-key": key},
            timeout=60,
            files={
                "data": (
                    None,
                    '{"externalId": "e2e-tee", "title": "Tee", "category": "tops", "images": [{"fileKey": "g"}]}',
                    "application/json",
                ),
                "g": ("g.jpg", garment, "image/jpeg"),
            },
        )
        assert product.status_code in (200, 201), product.text
        with requests.Session() as session:  # warm-up: model load in both workers
            for _ in range(4):
                one_generation(session, base, key, person)
        rss_start = [tree_rss_mb(psutil.Process(w.pid)) for w in workers]
        remaining = [total]
        lock = threading.Lock()

        def client() -> None:
            with requests.Session() as session:
                while True:
                    with lock:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    elapsed, status, code = one_generation(session, base, key, person)
                    with lock:
                        latencies.append(elapsed)
                        outcomes.append((status, code))

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        rss_end = [tree_rss_mb(psutil.Process(w.pid)) for w in workers]

    baseline = engine_baseline_ms(person, garment)
    completed = sum(1 for status, _ in outcomes if status == "COMPLETED")
    p50, p95 = statistics.median(latencies), percentile(latencies, 95)
    print(f"machine={machine()}")
    print(f"e2e.generations={len(latencies)}")
    print(f"e2e.completed={completed}")
    print(f"e2e.failed_codes={','.join(sorted({code for s, code in outcomes if s != 'COMPLETED'})) or 'none'}")
    print(f"e2e.workers=2 e2e.clients={CLIENTS}")
    print(f"e2e.engine_baseline_ms={baseline:.1f}")
    print(f"e2e.p50_ms={p50:.1f}")
    print(f"e2e.p95_ms={p95:.1f}")
    print(f"e2e.ratio_p50_to_engine={p50 / baseline:.2f}")
    print(f"e2e.ratio_p95_to_engine={p95 / baseline:.2f}")
    print(f"e2e.throughput_per_min={len(latencies) / wall * 60:.1f}")
    print(f"e2e.worker_rss_start_mb={max(rss_start):.0f}")
    print(f"e2e.worker_rss_end_mb={max(rss_end):.0f}")
    print(f"e2e.worker_rss_ratio_end_to_start={max(e / s for e, s in zip(rss_end, rss_start, strict=True)):.2f}")


if __name__ == "__main__":
    main()
