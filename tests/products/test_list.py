"""GET /products: keyset cursor pages, newest first, stable under inserts, scoped and filtered (docs/products.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing

from products.inputs import ImageInput, ProductInput
from products.services import product_upsert
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for
from tests.products.conftest import PRODUCTS

T0 = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)


def _ids(body: dict) -> list[str]:
    return [item["externalId"] for item in body["items"]]


def _seed(create, count: int, *, prefix: str = "p", start: datetime = T0) -> list[str]:
    ids = []
    for index in range(count):
        with time_machine.travel(start + timedelta(seconds=index), tick=False):
            ids.append(create(f"{prefix}{index}")["externalId"])
    return ids


def test_empty_list(api):
    response = api.get(PRODUCTS)
    assert response.status_code == 200
    assert response.json() == {"items": [], "nextCursor": None, "hasMore": False, "count": 0}


def test_newest_first_with_full_objects(api, create):
    _seed(create, 3)
    body = api.get(f"{PRODUCTS}/").json()
    assert _ids(body) == ["p2", "p1", "p0"]
    assert body["items"][0] == api.get(f"{PRODUCTS}/p2").json()
    assert (body["count"], body["hasMore"], body["nextCursor"]) == (3, False, None)


def test_default_limit_is_50(api, create):
    with time_machine.travel(T0, tick=False):
        for index in range(51):
            create(f"p{index}")
    body = api.get(PRODUCTS).json()
    assert (body["count"], body["hasMore"]) == (50, True)
    rest = api.get(PRODUCTS, {"cursor": body["nextCursor"]}).json()
    assert (rest["count"], rest["hasMore"], rest["nextCursor"]) == (1, False, None)
    # Same timestamp for all: the id breaks ties, newest first.
    assert _ids(body) + _ids(rest) == [f"p{index}" for index in range(50, -1, -1)]


def test_paging_is_stable_while_products_are_inserted(api, create):
    original = _seed(create, 9)
    seen: list[str] = []
    cursor = None
    pages = 0
    inserted = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.get(PRODUCTS, params).json()
        assert body["count"] == len(body["items"]) <= 2
        seen.extend(_ids(body))
        pages += 1
        # New products between page fetches: they sort before page 1 and must not show up in later pages.
        with time_machine.travel(T0 + timedelta(hours=1, seconds=inserted), tick=False):
            create(f"new{inserted}")
        inserted += 1
        if not body["hasMore"]:
            assert body["nextCursor"] is None
            break
        cursor = body["nextCursor"]
    assert pages == 5
    assert seen == list(reversed(original))
    # They are there for a client that starts again.
    first = api.get(PRODUCTS, {"limit": 2}).json()
    assert _ids(first) == [f"new{inserted - 1}", f"new{inserted - 2}"]


def test_paging_survives_deletion_of_the_cursor_row(api, create):
    _seed(create, 5)
    body = api.get(PRODUCTS, {"limit": 2}).json()
    assert _ids(body) == ["p4", "p3"]
    api.delete(f"{PRODUCTS}/p3")
    assert _ids(api.get(PRODUCTS, {"limit": 2, "cursor": body["nextCursor"]}).json()) == ["p2", "p1"]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5"])
def test_limit_out_of_range(api, limit):
    response = api.get(PRODUCTS, {"limit": limit})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert [d["path"] for d in body["details"]] == ["limit"]


@pytest.mark.parametrize("limit", ["1", "200"])
def test_limit_bounds(api, create, limit):
    _seed(create, 2)
    assert api.get(PRODUCTS, {"limit": limit}).json()["count"] == min(int(limit), 2)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        signing.dumps(["products", T0.isoformat(), 1], salt="wrong-salt", compress=False),
        signing.dumps(["generations", T0.isoformat(), 1], salt="tryon.api.keyset-cursor", compress=False),
        signing.dumps(["products", "not-a-date", 1], salt="tryon.api.keyset-cursor", compress=False),
        signing.dumps(["products", "2026-05-13T10:00:00", 1], salt="tryon.api.keyset-cursor", compress=False),
        signing.dumps(["products", T0.isoformat(), "1"], salt="tryon.api.keyset-cursor", compress=False),
    ],
)
def test_bad_cursor(api, create, cursor):
    _seed(create, 3)
    response = api.get(PRODUCTS, {"cursor": cursor})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert [d["path"] for d in body["details"]] == ["cursor"]


def test_empty_parameters_mean_their_defaults(api, create):
    _seed(create, 3)
    body = api.get(f"{PRODUCTS}?cursor=&limit=").json()
    assert (_ids(body), body["hasMore"]) == (["p2", "p1", "p0"], False)


def test_tampered_cursor(api, create):
    _seed(create, 3)
    cursor = api.get(PRODUCTS, {"limit": 1}).json()["nextCursor"]
    payload, signature = cursor.rsplit(":", 1)
    tampered = f"{payload[:-2]}AA:{signature}"
    assert api.get(PRODUCTS, {"cursor": tampered}).json()["code"] == "VALIDATION_FAILED"


def test_one_shot_and_expired_products_are_not_listed(api, create, account):
    with time_machine.travel(T0, tick=False):
        create("forever")
        create("short", validForDays=1)
        product_upsert(
            account=account,
            external_id=None,
            mode="one_shot",
            fields=ProductInput(images=(ImageInput(url="https://a.example/1.jpg"),)),
        )
        product_upsert(
            account=account,
            external_id="inline",
            mode="inline",
            fields=ProductInput(images=(ImageInput(url="https://a.example/1.jpg"),)),
        )
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert sorted(_ids(api.get(PRODUCTS).json())) == ["forever", "inline", "short"]
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        assert sorted(_ids(api.get(PRODUCTS).json())) == ["forever", "inline"]


def test_another_accounts_products_are_never_listed_or_reachable(api, create):
    create("mine")
    other = AccountFactory()
    other_api = ApiClient(api_key_for(other))
    for external_id in ("theirs", "mine"):  # the same external id in two accounts is two products
        response = other_api.post_json(PRODUCTS, {"externalId": external_id, "imageUrls": ["https://b.example/1.jpg"]})
        assert response.status_code == 201
    assert _ids(api.get(PRODUCTS).json()) == ["mine"]
    assert api.get(f"{PRODUCTS}/theirs").json()["code"] == "PRODUCT_NOT_FOUND"
    assert api.delete(f"{PRODUCTS}/theirs").status_code == 404
    assert api.get(f"{PRODUCTS}/theirs/stats").status_code == 404
    assert api.get(f"{PRODUCTS}/mine").json()["images"] == [{"sourceUrl": "https://cdn.example/front.jpg", "order": 0}]
    assert other_api.get(f"{PRODUCTS}/theirs").status_code == 200
    # A cursor from one account lists nothing of the other.
    cursor = other_api.get(PRODUCTS, {"limit": 1}).json()["nextCursor"]
    assert _ids(api.get(PRODUCTS, {"cursor": cursor}).json()) in ([], ["mine"])
