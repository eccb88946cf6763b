"""Locust traffic for `make load` (scripts/load.py starts the stack and runs this headless; it is not a benchmark
of its own, so `make bench` skips it).

A fixed-rate mix, not a closed loop: `constant_pacing` starts one cycle per user every N seconds whatever the
latency, so a slow server shows up as latency and backlog instead of quietly lowering the offered load.

- shoppers: upload a photo (every other cycle; otherwise reuse the last one, like a returning visitor), start a
  try-on against a random catalog product, then poll its status every 2 s until it is terminal;
- a merchant: upserts a catalog product (multipart, with its garment image) every few seconds.

Environment: LOAD_API_KEY (required), LOAD_PRODUCTS (catalog size, created beforehand by scripts/load.py),
LOAD_SHOPPER_PACING / LOAD_MERCHANT_PACING (seconds per cycle), LOAD_STATUS_FILE (status codes, response times and
polled outcomes, JSON).
"""

from __future__ import annotations

import collections
import json
import os
import random
import time
from pathlib import Path

from locust import HttpUser, constant_pacing, events, task

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"
PERSON = (SAMPLES / "person.jpg").read_bytes()
GARMENT = (SAMPLES / "tshirt.jpg").read_bytes()
KEY = os.environ.get("LOAD_API_KEY", "")
PRODUCTS = int(os.environ.get("LOAD_PRODUCTS", "5"))
POLL_SECONDS = 2.0
POLL_GIVE_UP_SECONDS = 120.0
TERMINAL = ("COMPLETED", "FAILED")

status_tally: collections.Counter[str] = collections.Counter()
outcomes: collections.Counter[str] = collections.Counter()
# Every response time, by endpoint: scripts/load.py computes the percentiles from these, so they describe exactly
# the requests the status tally counts (locust's own CSV is written on its own schedule).
response_ms: dict[str, list[float]] = collections.defaultdict(list)


@events.request.add_listener
def _tally(name, response_time, response, exception, **_):
    status = getattr(response, "status_code", 0) or 0
    status_tally[f"{name} {status}"] += 1
    response_ms[name].append(response_time)


@events.quitting.add_listener
def _write_tally(environment, **_):
    target = os.environ.get("LOAD_STATUS_FILE")
    if target:
        Path(target).write_text(
            json.dumps({"status": status_tally, "polled_outcomes": outcomes, "response_ms": response_ms})
        )


def product_payload(external_id: str) -> dict:
    data = {
        "externalId": external_id,
        "title": f"Tee {random.randint(1, 10**6)}",
        "category": "tops",
        "images": [{"fileKey": "g"}],
    }
    return {"data": (None, json.dumps(data), "application/json"), "g": ("g.jpg", GARMENT, "image/jpeg")}


class Shopper(HttpUser):
    fixed_count = int(os.environ.get("LOAD_SHOPPERS", "4"))
    wait_time = constant_pacing(float(os.environ.get("LOAD_SHOPPER_PACING", "4")))

    def on_start(self) -> None:
        self.client.headers["x-api-key"] = KEY
        self.image_id = ""
        self.cycle = 0

    @task
    def try_on(self) -> None:
        self.cycle += 1
        if not self.image_id or self.cycle % 2:
            upload = self.client.post(
                "/tryon/v1/images/upload",
                data={"crop": "true"},
                name="POST /images/upload",
                files={"file": ("me.jpg", PERSON, "image/jpeg")},
            )
            if upload.status_code != 201:
                return
            self.image_id = upload.json()["imageId"]
        accepted = self.client.post(
            "/tryon/v1/try-on",
            name="POST /try-on",
            json={
                "product": {"externalId": f"load-tee-{random.randrange(PRODUCTS)}"},
                "customer": {"id": self.image_id},
            },
        )
        if accepted.status_code != 202:
            return
        generation_id = accepted.json()["generationId"]
        deadline = time.monotonic() + POLL_GIVE_UP_SECONDS
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            polled = self.client.get(f"/tryon/v1/generations/{generation_id}", name="GET /generations/{id}")
            if polled.status_code == 200 and polled.json()["status"] in TERMINAL:
                outcomes[polled.json()["status"]] += 1
                return
        outcomes["gave-up-polling"] += 1


class Merchant(HttpUser):
    fixed_count = 1
    wait_time = constant_pacing(float(os.environ.get("LOAD_MERCHANT_PACING", "5")))

    def on_start(self) -> None:
        self.client.headers["x-api-key"] = KEY

    @task
    def upsert(self) -> None:
        self.client.post(
            "/tryon/v1/products", name="POST /products", files=product_payload(f"load-tee-{random.randrange(PRODUCTS)}")
        )
