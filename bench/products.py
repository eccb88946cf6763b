"""Catalog list pages at 1,000 and 100,000 products: the cost of a page must not grow with the catalog.

Seeds one dedicated account on PostgreSQL (DATABASE_URL), times GET /tryon/v1/products through the real view
(Django test client with an API key) for page 1, a deep page and the last page, and prints each as a ratio of
the 100k catalog to the 1k one (goal: <= 1.5). The account and its rows are deleted at the end.

    DATABASE_URL=postgres://… .venv/bin/python bench/products.py [--runs 15]

The database must be migrated (`manage.py migrate`). Without DATABASE_URL (SQLite) it prints a note and exits.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the `products` app.
_ROOT = str(Path(__file__).resolve().parent.parent)
sys.path[:] = [_ROOT, *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryon_project.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Account  # noqa: E402
from accounts.services import account_create, api_key_create  # noqa: E402
from products.models import Product, ProductImage, ProductKind  # noqa: E402
from products.selectors import CURSOR_SCOPE, product_list_page  # noqa: E402
from tryon_project.api.pagination import cursor_decode  # noqa: E402

LIST = "/tryon/v1/products"
PAGE = 200
DEEP_PAGES = 50
BATCH = 5000
SMALL, LARGE = 1_000, 100_000
START = datetime(2025, 1, 1, tzinfo=UTC)


def seed(*, account: Account, first: int, count: int) -> None:
    """Rows first..first+count-1, each one second newer than the previous (ids grow with time, as in life)."""
    for offset in range(first, first + count, BATCH):
        size = min(BATCH, first + count - offset)
        products = Product.objects.bulk_create(
            [
                Product(
                    account=account,
                    external_id=f"bench-{index}",
                    title=f"Product {index}",
                    kind=ProductKind.CATALOG,
                    created_at=START + timedelta(seconds=index),
                )
                for index in range(offset, offset + size)
            ]
        )
        ProductImage.objects.bulk_create(
            [ProductImage(product=p, order=0, source_url=f"https://cdn.example/{p.external_id}.jpg") for p in products]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")
        cursor.execute("ANALYZE products_productimage")


def page_cursor(client: Client, *, pages: int) -> str | None:
    """The cursor after walking `pages` pages (None when the catalog ends first)."""
    cursor = None
    for _ in range(pages):
        body = client.get(LIST, {"limit": PAGE, **({"cursor": cursor} if cursor else {})}).json()
        if not body["hasMore"]:
            return cursor
        cursor = body["nextCursor"]
    return cursor


def last_cursor(client: Client) -> str | None:
    cursor, previous = None, None
    while True:
        body = client.get(LIST, {"limit": PAGE, **({"cursor": cursor} if cursor else {})}).json()
        if not body["hasMore"]:
            return previous if cursor is None else cursor
        previous, cursor = cursor, body["nextCursor"]


def timed(client: Client, *, cursor: str | None, runs: int) -> float:
    params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
    for _ in range(3):  # warm caches and connections
        assert client.get(LIST, params).status_code == 200
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(LIST, params)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.json()["count"] > 0
    return statistics.median(samples)


def timed_selector(account: Account, *, cursor: str | None, runs: int) -> float:
    """The database part alone (page query + image prefetch), without HTTP and JSON rendering."""
    after = cursor_decode(cursor=cursor, scope=CURSOR_SCOPE) if cursor else None
    samples = []
    for _ in range(runs + 3):
        started = time.perf_counter()
        product_list_page(account=account, limit=PAGE, after=after)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples[3:])


def measure(client: Client, account: Account, *, runs: int) -> dict[str, float]:
    cursors = {"page1": None, "page_deep": page_cursor(client, pages=DEEP_PAGES), "page_last": last_cursor(client)}
    out = {name: timed(client, cursor=cursor, runs=runs) for name, cursor in cursors.items()}
    out.update({f"query_{name}": timed_selector(account, cursor=c, runs=runs) for name, c in cursors.items()})
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("products bench: skipped (needs PostgreSQL: set DATABASE_URL)")
        return 0
    account = account_create(name=f"bench-products-{secrets.token_hex(4)}", rate_limit_per_minute=10_000_000)
    try:
        _, key = api_key_create(account=account, name="bench")
        client = Client(HTTP_X_API_KEY=key)
        seed(account=account, first=0, count=SMALL)
        small = measure(client, account, runs=args.runs)
        seed(account=account, first=SMALL, count=LARGE - SMALL)
        large = measure(client, account, runs=args.runs)
    finally:
        ProductImage.objects.filter(product__account=account).delete()
        Product.objects.filter(account=account).delete()
        account.delete()
    print(f"# page size {PAGE}; deep = after {DEEP_PAGES} pages (at 1k: the last page); median of {args.runs}")
    print("# page_*: GET /tryon/v1/products through the view; query_*: the selector alone")
    for name in large:
        print(f"products.{name}.ratio_100k_to_1k={large[name] / small[name]:.2f}")
    worst = max(large[name] / small[name] for name in large)
    print(f"products.goal_met={'yes' if worst <= 1.5 else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
