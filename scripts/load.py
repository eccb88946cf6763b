"""`make load`: a sustained, fixed-rate mix of real API traffic against the production stack on this machine, driven
by locust (bench/locustfile.py, headless), and docs/load.md written from what was measured. Nothing in the
document is typed by hand: rerun to refresh it.

Stack: uvicorn with 2 processes, 2 Celery workers (concurrency 1 each) running the local engine, PostgreSQL (the
dedicated `tryon_bench` database) and Redis. The account has a rate limit far above the offered load and enough
credits, so every refusal would be the server's doing.

    LOAD_DURATION=300 .venv/bin/python scripts/load.py      # seconds of traffic (default 300)
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import celery_workers, database_url, machine, manage, percentile, stack_env, web  # noqa: E402

OUT = ROOT / "docs" / "load.md"
SAMPLES = ROOT / "docs" / "samples"
DURATION = int(os.environ.get("LOAD_DURATION", "300"))
PRODUCTS = 5
SHOPPERS, SHOPPER_PACING = 4, 4.0  # one try-on flow per second in all
MERCHANT_PACING = 5.0
DRAIN_GRACE_SECONDS = 60
ENDPOINTS = ("POST /images/upload", "POST /try-on", "GET /generations/{id}", "POST /products")


def tree_rss_mb(process: psutil.Process) -> float:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def prepare(base: str, key: str) -> None:
    """The catalog the shoppers pick from, and a few generations so both workers have loaded the engine before
    their memory is first measured."""
    headers = {"x-api-key": key}
    garment = (SAMPLES / "tshirt.jpg").read_bytes()
    for index in range(PRODUCTS):
        data = {"externalId": f"load-tee-{index}", "title": "Tee", "category": "tops", "images": [{"fileKey": "g"}]}
        response = requests.post(
            f"{base}/products",
            headers=headers,
            timeout=60,
            files={"data": (None, json.dumps(data), "application/json"), "g": ("g.jpg", garment, "image/jpeg")},
        )
        assert response.status_code in (200, 201), response.text
    upload = requests.post(
        f"{base}/images/upload",
        headers=headers,
        timeout=60,
        data={"crop": "true"},
        files={"file": ("me.jpg", (SAMPLES / "person.jpg").read_bytes(), "image/jpeg")},
    )
    assert upload.status_code == 201, upload.text
    ids = []
    for _ in range(4):
        accepted = requests.post(
            f"{base}/try-on",
            headers=headers,
            timeout=60,
            json={"product": {"externalId": "load-tee-0"}, "customer": {"id": upload.json()["imageId"]}},
        )
        assert accepted.status_code == 202, accepted.text
        ids.append(accepted.json()["generationId"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [
            requests.get(f"{base}/generations/{gid}", headers=headers, timeout=60).json()["status"] for gid in ids
        ]
        if all(state in ("COMPLETED", "FAILED") for state in states):
            return
        time.sleep(0.5)
    raise RuntimeError("warm-up generations did not finish")


def failure_codes(key: str, since: datetime) -> str:
    with psycopg.connect(database_url()) as conn:
        rows = conn.execute(
            "SELECT g.error_code, count(*) FROM generations_generation g JOIN accounts_apikey k "
            "ON k.account_id = g.account_id WHERE k.prefix = %s AND g.created_at >= %s AND g.status = 'FAILED' "
            "GROUP BY g.error_code ORDER BY 1",
            (key[:12], since),
        ).fetchall()
    return ", ".join(f"`{code}`: {n}" for code, n in rows) or "none"


def account_counts(key: str, since: datetime) -> dict[str, int]:
    with psycopg.connect(database_url()) as conn:
        account_id = conn.execute("SELECT account_id FROM accounts_apikey WHERE prefix = %s", (key[:12],)).fetchone()[0]
        return dict(
            conn.execute(
                "SELECT status, count(*) FROM generations_generation WHERE account_id = %s "
                "AND created_at >= %s GROUP BY status",
                (account_id, since),
            ).fetchall()
        )


def run_locust(port: int, key: str, var_dir: Path) -> tuple[dict, float]:
    status_file = var_dir / "status.json"
    env = {
        **os.environ,
        "LOAD_API_KEY": key,
        "LOAD_PRODUCTS": str(PRODUCTS),
        "LOAD_SHOPPERS": str(SHOPPERS),
        "LOAD_SHOPPER_PACING": str(SHOPPER_PACING),
        "LOAD_MERCHANT_PACING": str(MERCHANT_PACING),
        "LOAD_STATUS_FILE": str(status_file),
    }
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(SHOPPERS + 1),
            "--spawn-rate",
            str(SHOPPERS + 1),
            "--run-time",
            f"{DURATION}s",
            "--stop-timeout",
            "130",
            "--host",
            f"http://127.0.0.1:{port}",
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--exit-code-on-error",
            "0",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=DURATION + 300,
        stdout=subprocess.DEVNULL,
    )
    return json.loads(status_file.read_text()), time.monotonic() - started


def main() -> int:
    var_dir = Path(tempfile.mkdtemp(prefix="tryon-load-"))
    env = stack_env(var_dir, TRYON_ENGINE="local", TRYON_RATE_LIMIT_PER_MINUTE="100000000")
    manage(env, "migrate", "--noinput")
    key = manage(env, "create_account", f"load-{int(time.time())}", "--credits", "1000000", "--rate-limit", "100000000")
    with web(env, workers=2) as port, celery_workers(env, count=2, concurrency=1) as workers:
        prepare(f"http://127.0.0.1:{port}/tryon/v1", key)
        rss_start = [tree_rss_mb(psutil.Process(w.pid)) for w in workers]
        since = datetime.now(UTC)
        tally, wall = run_locust(port, key, var_dir)
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < DRAIN_GRACE_SECONDS:
            counts = account_counts(key, since)
            if not counts.get("PENDING") and not counts.get("PROCESSING"):
                break
            time.sleep(1)
        drain = time.monotonic() - drain_started
        counts = account_counts(key, since)
        failed_by_code = failure_codes(key, since)
        rss_end = [tree_rss_mb(psutil.Process(w.pid)) for w in workers]

    server_errors = sum(n for label, n in tally["status"].items() if int(label.rsplit(" ", 1)[1]) >= 500)
    no_response = sum(n for label, n in tally["status"].items() if label.endswith(" 0"))
    left = counts.get("PENDING", 0) + counts.get("PROCESSING", 0)
    failures = collections.Counter()
    for label, n in tally["status"].items():
        name, status = label.rsplit(" ", 1)
        if int(status) >= 400 or int(status) == 0:
            failures[name] += n
    every = [ms for samples in tally["response_ms"].values() for ms in samples]
    lines = [
        "# Load",
        "",
        "Written by `make load` (`scripts/load.py` driving `bench/locustfile.py` with locust, headless). Do not edit",
        "the figures by hand: rerun the command.",
        "",
        f"**Duration of traffic: {DURATION} s** (`LOAD_DURATION`; the default is 300 s). Run:"
        f" {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; {machine()}.",
        "",
        "Stack: uvicorn (2 processes), 2 Celery workers (prefork, concurrency 1 each), local engine on",
        "`docs/samples/person.jpg` and `docs/samples/tshirt.jpg`, PostgreSQL database `tryon_bench`, Redis. Offered",
        f"load at a fixed rate: {SHOPPERS} shoppers each start one flow every {SHOPPER_PACING:.0f} s (upload a photo"
        " every other flow,",
        "try-on, poll every 2 s until terminal) and one merchant upserts a product with its image every"
        f" {MERCHANT_PACING:.0f} s.",
        "",
        f"**Verdict: {'pass' if server_errors == 0 and no_response == 0 and left == 0 else 'FAIL'}** —"
        f" 5xx responses: **{server_errors}**, requests without a response: **{no_response}**, generations left"
        f" PENDING/PROCESSING after a {DRAIN_GRACE_SECONDS} s grace: **{left}**.",
        "",
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | 4xx/5xx/no response |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in (*ENDPOINTS, "all"):
        samples = every if name == "all" else tally["response_ms"].get(name, [])
        if samples:
            errors = sum(failures.values()) if name == "all" else failures[name]
            lines.append(
                f"| `{name}` | {len(samples)} | {len(samples) / DURATION:.2f} |"
                f" {percentile(samples, 50):.0f} | {percentile(samples, 95):.0f} |"
                f" {percentile(samples, 99):.0f} | {max(samples):.0f} | {errors} |"
            )
    completed, failed = counts.get("COMPLETED", 0), counts.get("FAILED", 0)
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(tally["polled_outcomes"].items())) or "none"
    rss_ratio = max(end / start for end, start in zip(rss_end, rss_start, strict=True))
    lines += [
        "",
        "| figure | value |",
        "|---|---|",
        f"| wall time of the locust run (traffic + letting the last flows finish) | {wall:.0f} s |",
        f"| requests in all | {len(every)} ({len(every) / DURATION:.2f} req/s over the {DURATION} s of traffic) |",
        f"| generations accepted during the run | {sum(counts.values())} |",
        f"| completed / failed | {completed} / {failed} |",
        f"| failed generations by error code | {failed_by_code} |",
        f"| generations completed per minute | {completed / wall * 60:.1f} |",
        f"| left PENDING/PROCESSING after the traffic (grace {DRAIN_GRACE_SECONDS} s; drained in {drain:.1f} s) |"
        f" **{left}** |",
        f"| status codes | {', '.join(f'{k}: {v}' for k, v in sorted(tally['status'].items()))} |",
        f"| outcomes seen by polling shoppers | {outcomes} |",
        f"| worker RSS after warm-up (each worker's process tree) | {', '.join(f'{v:.0f} MB' for v in rss_start)} |",
        f"| worker RSS at the end | {', '.join(f'{v:.0f} MB' for v in rss_end)} |",
        f"| worker RSS ratio end / start (highest) | {rss_ratio:.2f} |",
        "",
    ]
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0 if server_errors == 0 and no_response == 0 and left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
