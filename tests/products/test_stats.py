"""GET /products/{externalId}/stats (docs/products.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.apps import apps

from products.inputs import ImageInput, ProductInput
from products.serializers import ProductStatsQuerySerializer
from products.services import product_upsert
from tests.products.conftest import PRODUCTS

STATS = f"{PRODUCTS}/shirt-42/stats"


def _generation_model():
    """The Generation model, or skip: it belongs to the generations app, which may not be installed yet."""
    if not apps.is_installed("generations"):
        pytest.skip("the generations app (Generation model) is not installed yet")
    return apps.get_model("generations", "Generation")


def test_unknown_product(api):
    for path in (f"{PRODUCTS}/nope/stats", f"{PRODUCTS}/nope/stats/"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "PRODUCT_NOT_FOUND", "message": "Product 'nope' not found.", "status": 404}


@pytest.mark.parametrize(
    "query, path",
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ({"from": "2026-05-01T10:00:00Z", "to": "2026-05-01T09:59:59Z"}, "from"),
    ],
)
def test_invalid_window(api, create, query, path):
    create()
    response = api.get(STATS, query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert [d["path"] for d in body["details"]] == [path]


def test_zero_when_no_generation(api, create):
    _generation_model()
    create()
    for query in ({}, {"from": "2026-05-01", "to": "2026-05-31"}, {"from": "2026-05-01T00:00:00.000Z"}):
        response = api.get(STATS, query)
        assert response.status_code == 200
        assert response.json() == {
            "totalGenerations": 0,
            "completedGenerations": 0,
            "failedGenerations": 0,
            "avgGenerationTimeMs": 0,
        }


def test_counts_in_an_inclusive_window(api, create, account):
    generation = _generation_model()
    create()
    other_product, _ = product_upsert(
        account=account,
        external_id=None,
        mode="one_shot",
        fields=ProductInput(images=(ImageInput(url="https://a.example/1.jpg"),)),
    )
    rows = [
        ("COMPLETED", 1000, datetime(2026, 5, 1, 0, 0, tzinfo=UTC)),
        ("COMPLETED", 2001, datetime(2026, 5, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        ("FAILED", None, datetime(2026, 5, 10, tzinfo=UTC)),
        ("PENDING", None, datetime(2026, 5, 10, tzinfo=UTC)),
        ("PROCESSING", None, datetime(2026, 5, 10, tzinfo=UTC)),
        ("COMPLETED", 9000, datetime(2026, 6, 1, tzinfo=UTC)),  # outside the window
    ]
    for status, duration, created_at in rows:
        row = generation.objects.create(
            account=account,
            product_external_id="shirt-42",
            status=status,
            duration_ms=duration,
            error_code="ENGINE_ERROR" if status == "FAILED" else "",
        )
        generation.objects.filter(pk=row.pk).update(created_at=created_at)
    generation.objects.create(
        account=account, product_external_id=other_product.external_id, status="COMPLETED", duration_ms=5
    )
    response = api.get(STATS, {"from": "2026-05-01", "to": "2026-05-31"})
    assert response.json() == {
        "totalGenerations": 5,
        "completedGenerations": 2,
        "failedGenerations": 1,
        "avgGenerationTimeMs": 1500,
    }
    assert api.get(STATS).json()["totalGenerations"] == 6
    assert api.get(f"{PRODUCTS}/{other_product.external_id}/stats").json()["completedGenerations"] == 1


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"from": "2026-05-01T10:00:00+02:00"}, {"from": datetime(2026, 5, 1, 8, 0, tzinfo=UTC)}),
        ({"from": "2026-05-01T10:00:00 02:00"}, {"from": datetime(2026, 5, 1, 8, 0, tzinfo=UTC)}),  # "+" unencoded
        ({"from": "2026-05-01T10:00:00"}, {"from": datetime(2026, 5, 1, 10, 0, tzinfo=UTC)}),
        (
            {"from": "2026-05-01", "to": "2026-05-01"},
            {"from": datetime(2026, 5, 1, tzinfo=UTC), "to": datetime(2026, 5, 1, 23, 59, 59, 999999, tzinfo=UTC)},
        ),
        ({"to": "2026-05-01T10:00:00.000Z"}, {"to": datetime(2026, 5, 1, 10, 0, tzinfo=UTC)}),
    ],
)
def test_window_parsing(raw, expected):
    query = ProductStatsQuerySerializer(data=raw)
    assert query.is_valid(), query.errors
    assert query.validated_data == expected
