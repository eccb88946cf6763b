#!/usr/bin/env python3
"""The recommended Try-On API v1 integration, end to end, with only `requests`.

1. Upload the shopper's photo once (`POST /images/upload`, `crop=true`) and keep its `imageId`.
2. Start a try-on that names the product by its `externalId` only. The catalog keeps a product 15 days after
   its last use, so most calls are this small. When the server answers 404 `PRODUCT_NOT_FOUND` (never sent,
   expired, deleted), send the same call again with the full product inline; the server recreates it.
3. Poll `GET /generations/{id}` every 2 seconds until `COMPLETED` or `FAILED`.
4. Download `resultImageUrl` (a signed URL valid for an hour: fetch it right away, without the API key).

Every call goes through `TryOnClient.call`, which waits out `RATE_LIMITED` (429) as long as `Retry-After` says
and sends an `Idempotency-Key` on writes, so retrying after a lost answer does not start a second generation.
`INSUFFICIENT_CREDITS` (402) stops the script with a clear message: nothing was created or charged.

Run it against `make run`:

    TRYON_API_KEY=tok_... python docs/examples/full_example.py

Environment (all optional except the key):
    TRYON_BASE_URL        default http://127.0.0.1:8000/tryon/v1
    TRYON_API_KEY         the merchant's API key
    TRYON_PERSON          shopper photo, default docs/samples/person.jpg
    TRYON_GARMENT         product photo, default docs/samples/tshirt.jpg
    TRYON_PRODUCT_ID      the product's externalId, default a fresh one per run (so the 404 path runs too)
    TRYON_OUTPUT          where to save the result, default full-example-result.jpg (the quickstart's curl
                          writes tryon-result.jpg; this script leaves that file alone)
    TRYON_POLL_INTERVAL   seconds between polls, default 2
    TRYON_TIMEOUT         seconds to wait for the result, default 300

Exit status: 0 with the result saved, 1 when the generation failed or the API refused, 2 when out of credits.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

import requests

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BASE_URL = os.environ.get("TRYON_BASE_URL", "http://127.0.0.1:8000/tryon/v1").rstrip("/")
POLL_INTERVAL = float(os.environ.get("TRYON_POLL_INTERVAL", "2"))
TIMEOUT = float(os.environ.get("TRYON_TIMEOUT", "300"))
MAX_ATTEMPTS = 5


class ApiError(Exception):
    """An error body of the API: `{code, message, status[, details]}`."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.code = body.get("code", "UNKNOWN")
        self.details = body.get("details", [])
        super().__init__(f"{status} {self.code}: {body.get('message', '')}")


class TryOnClient:
    def __init__(self, base_url: str, api_key: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["x-api-key"] = api_key

    def call(self, method: str, path: str, *, idempotent_write: bool = False, **kwargs) -> dict:
        """One API call, retried on 429/409 (after `Retry-After`) and on 5xx or a dropped connection (with backoff).

        Retrying a write is safe only because it carries an `Idempotency-Key`: the server replays the first answer
        instead of doing the work twice. A 429 itself never did any work, so it is always safe to resend."""
        headers = kwargs.pop("headers", {})
        if idempotent_write:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        retry_server_errors = method == "GET" or idempotent_write
        for attempt in range(1, MAX_ATTEMPTS + 1):
            files = kwargs.get("files")
            if files:
                # A retry must send the file parts again from the start.
                for part in files.values():
                    part[1].seek(0)
            try:
                response = self.session.request(
                    method, f"{self.base_url}{path}", headers=headers, timeout=120, **kwargs
                )
            except requests.ConnectionError:
                if not retry_server_errors or attempt == MAX_ATTEMPTS:
                    raise
                time.sleep(2**attempt)
                continue
            if response.status_code < 400:
                return response.json() if response.content else {}
            body = _error_body(response)
            if response.status_code in (409, 429) and attempt < MAX_ATTEMPTS:
                wait = _retry_after(response)
                print(f"  {body.get('code')}: waiting {wait:g} s as Retry-After asks")
                time.sleep(wait)
                continue
            if response.status_code >= 500 and retry_server_errors and attempt < MAX_ATTEMPTS:
                time.sleep(2**attempt)
                continue
            raise ApiError(response.status_code, body)
        raise AssertionError("unreachable")


def _error_body(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0  # an HTTP-date form; this server sends seconds, so keep the fallback short


def upload_photo(client: TryOnClient, photo: Path, *, customer_id: str) -> str:
    """Upload once; the imageId is reusable for every try-on until the retention window ends."""
    with photo.open("rb") as handle:
        uploaded = client.call(
            "POST",
            "/images/upload",
            idempotent_write=True,
            files={"file": (photo.name, handle, "image/jpeg")},
            data={"crop": "true", "customerId": customer_id},
        )
    print(f"uploaded {photo.name}: {uploaded['imageId']} (kept until {uploaded.get('expiresAt', 'retention')})")
    return uploaded["imageId"]


def start_try_on(client: TryOnClient, *, image_id: str, customer_id: str, product: dict, garment: Path) -> dict:
    """Reference the product by externalId; on PRODUCT_NOT_FOUND send the full product inline and try again."""
    call = {"customer": {"id": image_id}, "customerId": customer_id}
    try:
        return client.call(
            "POST", "/try-on", idempotent_write=True, json={**call, "product": {"externalId": product["externalId"]}}
        )
    except ApiError as error:
        if error.code != "PRODUCT_NOT_FOUND":
            raise
        print(f"  {error.code}: sending the full product '{product['externalId']}' inline")
    # Multipart: the JSON body travels in the `data` field; the image part is named by its `fileKey`.
    full = {**call, "product": {**product, "images": [{"fileKey": "garment"}]}}
    with garment.open("rb") as handle:
        return client.call(
            "POST",
            "/try-on",
            idempotent_write=True,
            data={"data": json.dumps(full)},
            files={"garment": (garment.name, handle, "image/jpeg")},
        )


def wait_for(client: TryOnClient, generation_id: str) -> dict:
    deadline = time.monotonic() + TIMEOUT
    status = ""
    while time.monotonic() < deadline:
        generation = client.call("GET", f"/generations/{generation_id}")
        if generation["status"] != status:
            status = generation["status"]
            print(f"  {generation_id}: {status}")
        if status in ("COMPLETED", "FAILED"):
            return generation
        time.sleep(POLL_INTERVAL)
    raise TimeoutError(f"{generation_id} still {status} after {TIMEOUT:g} s")


def download(url: str, output: Path) -> None:
    # A plain GET, without the API key: the URL carries its own signature (and may point at a storage bucket).
    response = requests.get(url, timeout=60)
    response.raise_for_status()
    output.write_bytes(response.content)
    print(f"saved {output} ({len(response.content)} bytes, {response.headers.get('Content-Type')})")


def main() -> int:
    api_key = os.environ.get("TRYON_API_KEY")
    if not api_key:
        print("Set TRYON_API_KEY (make run prints the demo key).", file=sys.stderr)
        return 1
    person = Path(os.environ.get("TRYON_PERSON", SAMPLES / "person.jpg"))
    garment = Path(os.environ.get("TRYON_GARMENT", SAMPLES / "tshirt.jpg"))
    output = Path(os.environ.get("TRYON_OUTPUT", "full-example-result.jpg"))
    product = {
        "externalId": os.environ.get("TRYON_PRODUCT_ID") or f"tee-{uuid.uuid4().hex[:8]}",
        "title": "Blue T-shirt",
        "description": "Short-sleeved cotton tee with a white stripe.",
    }
    customer_id = "shopper-42"  # your own id for the shopper: DELETE /customers/shopper-42 erases their data
    client = TryOnClient(BASE_URL, api_key)

    try:
        print(f"credits: {client.call('GET', '/account/credits')['creditBalance']}")
        image_id = upload_photo(client, person, customer_id=customer_id)
        accepted = start_try_on(client, image_id=image_id, customer_id=customer_id, product=product, garment=garment)
        print(f"accepted: {accepted['generationId']} for product {accepted['productExternalId']}")
        generation = wait_for(client, accepted["generationId"])
    except ApiError as error:
        if error.code == "INSUFFICIENT_CREDITS":
            print(
                "Out of credits: nothing was created or charged. Top up the account in the dashboard.", file=sys.stderr
            )
            return 2
        print(f"API error: {error}", file=sys.stderr)
        for detail in error.details:
            print(f"  {detail.get('path')}: {detail.get('message')}", file=sys.stderr)
        return 1

    if generation["status"] == "FAILED":
        # The reserved credit is refunded for every failed generation.
        print(f"generation failed: {generation['errorCode']}: {generation['errorMessage']}", file=sys.stderr)
        return 1
    print(f"completed in {generation.get('durationMs', '?')} ms")
    download(generation["resultImageUrl"], output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
