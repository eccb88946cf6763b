"""`GET /generations/{id}` is one query with a cached key, whatever the row holds, and answers exactly what the
generation object built from the full model answers (the compiled read is the ORM's own SQL and converters)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from accounts.models import ApiKey
from generations.models import Generation, GenerationStatus
from generations.selectors import generation_wire, generation_wire_row
from tests.conftest import ApiClient
from tests.factories import AccountFactory, api_key_for

NOW = datetime(2026, 11, 25, 12, 0, 0, 123000, tzinfo=UTC)


def _generation(account, **fields) -> Generation:
    return Generation.objects.create(
        account=account, product_external_id="tee", person_image_key="person/x.jpg", **fields
    )


ROWS = {
    "pending": {},
    "completed": {
        "status": GenerationStatus.COMPLETED,
        "result_key": "result/2026/11/25/abc.jpg",
        "result_expires_at": datetime(2026, 11, 26, tzinfo=UTC),
        "completed_at": NOW,
        "duration_ms": 4210,
    },
    "completed_erased": {"status": GenerationStatus.COMPLETED, "result_deleted": True, "completed_at": NOW},
    "failed": {
        "status": GenerationStatus.FAILED,
        "error_code": "PERSON_NOT_DETECTED",
        "error_message": "No person was found in the photo — é",
        "completed_at": NOW,
        "duration_ms": 12,
    },
}


@pytest.mark.parametrize("kind", sorted(ROWS))
@time_machine.travel(NOW, tick=False)
def test_a_poll_is_one_query_and_answers_the_full_model_body(api, account, kind, django_assert_num_queries):
    generation = _generation(account, **ROWS[kind])
    path = f"/tryon/v1/generations/{generation.id}"
    assert api.get(path).status_code == 200  # fills the key cache
    with django_assert_num_queries(1) as captured:
        response = api.get(path)
    assert response.status_code == 200
    assert response.json() == generation_wire(generation=Generation.objects.get(pk=generation.pk))
    sql = captured.captured_queries[0]["sql"]
    assert "product_snapshot" not in sql and "engine_options" not in sql  # the wire columns only
    assert "ORDER BY" not in sql


def test_the_row_carries_the_types_of_the_model(account):
    generation = _generation(account, **ROWS["completed"])
    row = generation_wire_row(generation_id=generation.id)
    model = Generation.objects.get(pk=generation.pk)
    assert row is not None
    assert (row.created_at, row.completed_at, row.result_expires_at) == (
        model.created_at,
        model.completed_at,
        model.result_expires_at,
    )
    assert row.created_at.tzinfo is not None
    assert row.result_deleted is False and row.duration_ms == 4210 and row.account_id == account.pk
    assert generation_wire_row(generation_id="gen_missing") is None


def test_another_accounts_generation_is_forbidden_in_one_query(api, db, django_assert_num_queries):
    other = _generation(AccountFactory())
    path = f"/tryon/v1/generations/{other.id}"
    api.get(path)
    with django_assert_num_queries(1):
        response = api.get(path)
    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN")


def test_an_unknown_generation_is_not_found_in_one_query(api, db, django_assert_num_queries):
    api.get("/tryon/v1/generations/gen_unknown")
    with django_assert_num_queries(1):
        response = api.get("/tryon/v1/generations/gen_unknown")
    assert (response.status_code, response.json()["code"]) == (404, "GENERATION_NOT_FOUND")


def test_a_revoked_key_polls_no_generation(api, account, django_assert_num_queries):
    from accounts.services import api_key_revoke

    generation = _generation(account)
    path = f"/tryon/v1/generations/{generation.id}"
    assert api.get(path).status_code == 200
    api_key_revoke(api_key=ApiKey.objects.get(account=account))
    with django_assert_num_queries(1):  # the key lookup, which finds nothing: the generation is never read
        response = api.get(path)
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_API_KEY")
    assert ApiClient(api_key_for(account)).get(path).status_code == 200
