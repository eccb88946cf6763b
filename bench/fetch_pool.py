"""Dripping customer URLs against the database pool, on the production stack (PostgreSQL, Redis, one uvicorn process).

Account A sends 22 concurrent `POST /try-on` (the free mock product) whose `customer.url` drips one byte every
0.5 s; meanwhile account B sends `GET /products?limit=1` one after another. Every request looks its key up (key
cache off, as a cold cache does), so each checks a pool connection out first. Prints B's p95 as a ratio to B alone
in the same run, B's 503s and what A got, twice: with the default settings (pool 20, 4 downloads per account), and
with the per-account cap raised to 22 (the connection release alone).
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._stack import machine, manage, percentile, stack_env, web

DRIPPING = 22
BASELINE_SECONDS = 3.0
# B keeps asking for this long while A's downloads drip (under the fetcher's 15 s total deadline).
BUSY_SECONDS = 10.0
PRODUCTS = "/tryon/v1/products?limit=1"


class Drip:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0
        self.lock = threading.Lock()
        drip = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with drip.lock:
                    drip.started += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                try:
                    while not drip.release.wait(0.5):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                except OSError:
                    return

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]


def _call(port: int, method: str, path: str, key: str, body: dict | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"x-api-key": key}
    payload = None
    if body is not None:
        payload, headers["Content-Type"] = json.dumps(body), "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        code = json.loads(data).get("code", "") if data and response.status >= 400 else ""
        return response.status, code
    finally:
        conn.close()


def _b_latencies(port: int, key: str, seconds: float) -> tuple[list[float], list[int]]:
    latencies, statuses = [], []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        started = time.perf_counter()
        status, _ = _call(port, "GET", PRODUCTS, key)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses.append(status)
        time.sleep(0.05)
    return latencies, statuses


def _phase(name: str, env: dict[str, str], drip: Drip) -> dict[str, object]:
    key_a = manage(env, "create_account", f"bench-a-{name}-{int(time.time())}", "--rate-limit", "100000000")
    key_b = manage(env, "create_account", f"bench-b-{name}-{int(time.time())}", "--rate-limit", "100000000")
    drip.release.clear()
    drip.started = 0
    with web(env, workers=1) as port:
        _b_latencies(port, key_b, 1.0)  # warm-up
        quiet, _ = _b_latencies(port, key_b, BASELINE_SECONDS)
        body = {
            "product": {"externalId": "m", "title": "mock", "images": [{"url": "https://cdn.example/m.jpg"}]},
            "customer": {"url": f"http://127.0.0.1:{drip.port}/drip"},
        }
        with ThreadPoolExecutor(max_workers=DRIPPING) as pool:
            futures = [pool.submit(_call, port, "POST", "/tryon/v1/try-on", key_a, body) for _ in range(DRIPPING)]
            time.sleep(1.0)
            busy, b_statuses = _b_latencies(port, key_b, BUSY_SECONDS)
            started = drip.started
            drip.release.set()
            a_results = [future.result() for future in futures]
    quiet_p95, busy_p95 = percentile(quiet, 95), percentile(busy, 95)
    return {
        f"fetch_pool.{name}.baseline_b_p95_ms": round(quiet_p95, 1),
        f"fetch_pool.{name}.b_p95_ms": round(busy_p95, 1),
        f"fetch_pool.{name}.b_p95_ratio_to_baseline": round(busy_p95 / quiet_p95, 2),
        f"fetch_pool.{name}.b_requests": len(b_statuses),
        f"fetch_pool.{name}.b_503": b_statuses.count(503),
        f"fetch_pool.{name}.a_downloads_started": started,
        f"fetch_pool.{name}.a_429": sum(1 for status, _ in a_results if status == 429),
        f"fetch_pool.{name}.a_503": sum(1 for status, _ in a_results if status == 503),
        f"fetch_pool.{name}.a_400_fetch_failed": sum(
            1 for _, code in a_results if code == "CUSTOMER_IMAGE_FETCH_FAILED"
        ),
    }


def main() -> None:
    drip = Drip()
    var_dir = Path(tempfile.mkdtemp(prefix="tryon-bench-"))
    common = {
        "TRYON_FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
        "TRYON_FETCH_ALLOWED_PORTS": f"80,443,{drip.port}",
        "TRYON_API_KEY_CACHE_SECONDS": "0",
    }
    env = stack_env(var_dir, **common)
    manage(env, "migrate", "--noinput")
    results: dict[str, object] = {"machine": machine(), "fetch_pool.dripping": DRIPPING}
    results.update(_phase("default", env, drip))
    results.update(_phase("uncapped", stack_env(var_dir, **common, TRYON_FETCH_CONCURRENCY_PER_ACCOUNT="22"), drip))
    drip.server.shutdown()
    for name, value in results.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
