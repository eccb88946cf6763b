#!/usr/bin/env python3
"""The recommended Try-On API v1 integration, end to end, with the Python client (`pip install ./clients/python`).

The same journey as `full_example.py`, which does it with plain `requests`:

1. Upload the shopper's photo once (`upload_image`, cropped to 4:5) and keep its `imageId`.
2. Start a try-on that names the product by its `externalId` only. When the server answers `PRODUCT_NOT_FOUND`
   (never sent, expired, deleted) the client raises `ProductNotFoundError`: send the same call again with the full
   product and its photo inline; the server recreates it.
3. `wait_for` the generation: it polls with backoff until `COMPLETED` or `FAILED` (or raises `WaitTimeoutError`).
4. Download `resultImageUrl` (a signed URL valid for an hour; the client fetches it without the API key).

The client waits out `RATE_LIMITED` (429) as `Retry-After` says, and each write carries an `Idempotency-Key`, so
the client may resend it after a lost answer without starting a second generation. `InsufficientCreditsError`
(402) stops the script with a clear message: nothing was created or charged.

Run it against `make run`:

    TRYON_API_KEY=tok_... python docs/examples/full_example_client.py

Environment (all optional except the key):
    TRYON_BASE_URL        default http://127.0.0.1:8000/tryon/v1
    TRYON_API_KEY         the merchant's API key
    TRYON_PERSON          shopper photo, default docs/samples/person.jpg
    TRYON_GARMENT         product photo, default docs/samples/tshirt.jpg
    TRYON_PRODUCT_ID      the product's externalId, default a fresh one per run (so the 404 path runs too)
    TRYON_OUTPUT          where to save the result, default full-example-client-result.jpg (full_example.py
                          writes full-example-result.jpg and the quickstart's curl tryon-result.jpg; both are
                          left alone)
    TRYON_POLL_INTERVAL   seconds before the first re-poll (then doubling, at most 5 s), default 1
    TRYON_TIMEOUT         seconds to wait for the result, default 300

Exit status: 0 with the result saved, 1 when the generation failed or the API refused, 2 when out of credits.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from tryon_client import (
    Generation,
    InsufficientCreditsError,
    ProductNotFoundError,
    TryOnAccepted,
    TryOnClient,
    TryOnError,
)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BASE_URL = os.environ.get("TRYON_BASE_URL", "http://127.0.0.1:8000/tryon/v1")
POLL_INTERVAL = float(os.environ.get("TRYON_POLL_INTERVAL", "1"))
TIMEOUT = float(os.environ.get("TRYON_TIMEOUT", "300"))


def start_try_on(
    client: TryOnClient, *, image_id: str, customer_id: str, product: dict[str, str], garment: Path
) -> TryOnAccepted:
    """Reference the product by externalId; on PRODUCT_NOT_FOUND send the full product inline and try again."""
    try:
        return client.try_on(
            product={"externalId": product["externalId"]},
            customer={"id": image_id},
            customer_id=customer_id,
            idempotency_key=str(uuid.uuid4()),
        )
    except ProductNotFoundError as error:
        print(f"  {error.code}: sending the full product '{product['externalId']}' inline")
    # `garment_photos` become multipart parts, named in the product's `images` by their `fileKey`.
    return client.try_on(
        product={
            "externalId": product["externalId"],
            "title": product["title"],
            "description": product["description"],
        },
        garment_photos=[garment],
        customer={"id": image_id},
        customer_id=customer_id,
        idempotency_key=str(uuid.uuid4()),
    )


def run(client: TryOnClient, *, person: Path, garment: Path, product: dict[str, str], customer_id: str) -> Generation:
    print(f"credits: {client.get_credits()['creditBalance']}")
    uploaded = client.upload_image(file=person, customer_id=customer_id, idempotency_key=str(uuid.uuid4()))
    print(f"uploaded {person.name}: {uploaded['imageId']} (kept until {uploaded['expiresAt']})")
    accepted = start_try_on(
        client, image_id=uploaded["imageId"], customer_id=customer_id, product=product, garment=garment
    )
    print(f"accepted: {accepted['generationId']} for product {accepted['productExternalId']}")
    generation = client.wait_for(accepted["generationId"], timeout=TIMEOUT, poll_interval=POLL_INTERVAL)
    print(f"  {generation['generationId']}: {generation['status']}")
    return generation


def main() -> int:
    api_key = os.environ.get("TRYON_API_KEY")
    if not api_key:
        print("Set TRYON_API_KEY (make run prints the demo key).", file=sys.stderr)
        return 1
    person = Path(os.environ.get("TRYON_PERSON", SAMPLES / "person.jpg"))
    garment = Path(os.environ.get("TRYON_GARMENT", SAMPLES / "tshirt.jpg"))
    output = Path(os.environ.get("TRYON_OUTPUT", "full-example-client-result.jpg"))
    product = {
        "externalId": os.environ.get("TRYON_PRODUCT_ID") or f"tee-{uuid.uuid4().hex[:8]}",
        "title": "Blue T-shirt",
        "description": "Short-sleeved cotton tee with a white stripe.",
    }
    customer_id = "shopper-42"  # your own id for the shopper: client.erase_customer("shopper-42") erases their data

    with TryOnClient(api_key=api_key, base_url=BASE_URL) as client:
        try:
            generation = run(client, person=person, garment=garment, product=product, customer_id=customer_id)
            if generation["status"] == "FAILED":
                # The reserved credit is refunded for every failed generation.
                print(
                    f"generation failed: {generation.get('errorCode')}: {generation.get('errorMessage')}",
                    file=sys.stderr,
                )
                return 1
            print(f"completed in {generation.get('durationMs', '?')} ms")
            result = client.download(generation["resultImageUrl"])
        except InsufficientCreditsError:
            print(
                "Out of credits: nothing was created or charged. Top up the account in the dashboard.", file=sys.stderr
            )
            return 2
        except TryOnError as error:
            # str(error) names the status, code, message, each detail and the request id to quote.
            print(f"API error: {error}", file=sys.stderr)
            return 1
    output.write_bytes(result)
    print(f"saved {output} ({len(result)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
