"""The externalId alphabet: any character but "/", so /products/{id} and /products/{id}/stats never overlap."""

from __future__ import annotations

from accounts.models import Account
from generations.models import Generation
from tests.products.conftest import PRODUCTS, state

TRYON = "/tryon/v1/try-on"


def test_a_slash_is_refused_at_upsert_and_nothing_is_written(api):
    response = api.post_json(
        PRODUCTS, {"externalId": "summer/shirt-42", "images": [{"url": "https://cdn.example/front.jpg"}]}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["details"] == [{"path": "externalId", "message": "must not contain '/'"}]
    assert state() == (0, 0, [])


def test_a_slash_is_refused_on_an_inline_upsert_before_anything_is_charged(api, account):
    response = api.post_json(
        TRYON,
        {
            "product": {
                "externalId": "a/stats",
                "title": "Red tee",
                "images": [{"url": "https://cdn.example/front.jpg"}],
            },
            "customer": {"id": "img_unknown"},
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert [d["path"] for d in response.json()["details"]] == ["product.externalId"]
    assert state() == (0, 0, [])
    assert Generation.objects.count() == 0
    assert Account.objects.get(pk=account.pk).credit_balance == 10


def test_an_unknown_sub_route_is_the_routes_not_found_not_a_product_lookup(api, create):
    create("x")
    response = api.get(f"{PRODUCTS}/x/unknown")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    # A percent-encoded slash is a slash once the path is decoded: no product route either.
    assert api.get(f"{PRODUCTS}/x%2Funknown").json()["code"] == "NOT_FOUND"
    assert api.delete(f"{PRODUCTS}/x/unknown").json()["code"] == "NOT_FOUND"
    assert api.get(f"{PRODUCTS}/x").status_code == 200  # the product itself is untouched


def test_ids_that_look_like_the_stats_route_are_reachable_both_ways(api, create):
    create("stats")
    create("shirt-stats")
    assert api.get(f"{PRODUCTS}/stats").json()["externalId"] == "stats"
    assert api.get(f"{PRODUCTS}/shirt-stats").json()["externalId"] == "shirt-stats"
    stats = api.get(f"{PRODUCTS}/stats/stats")
    assert stats.status_code == 200
    assert stats.json() == {
        "totalGenerations": 0,
        "completedGenerations": 0,
        "failedGenerations": 0,
        "avgGenerationTimeMs": 0,
    }
    assert api.get(f"{PRODUCTS}/nope/stats").json()["code"] == "PRODUCT_NOT_FOUND"
