import io
import json
import threading
from collections import Counter

import pytest
from django.db import connections

from accounts.models import Account, CreditLedgerEntry
from customers.models import CustomerImage
from generations.models import Generation
from tests.conftest import ApiClient, postgres_only
from tests.factories import AccountFactory, api_key_for
from tests.images import jpeg_bytes
from tryon_project.models import IdempotencyRecord

TRYON = "/tryon/v1/try-on"
BODY = {
    "product": {"externalId": "tee", "title": "Tee", "images": [{"url": "https://cdn.example/tee.jpg"}]},
    "customer": {"id": None},
}


def _body(image_id: str) -> dict:
    return {**BODY, "customer": {"id": image_id}}


def _upload(client: ApiClient) -> str:
    buffer = io.BytesIO(jpeg_bytes())
    buffer.name = "p.jpg"
    return client.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false"}).json()["imageId"]


def test_sequential_replays_are_identical_and_free(api, account):
    image_id = _upload(api)
    responses = [api.post_json(TRYON, _body(image_id), HTTP_IDEMPOTENCY_KEY="order-1") for _ in range(10)]
    assert [r.status_code for r in responses] == [202] * 10
    bodies = {json.dumps(r.json(), sort_keys=True) for r in responses}
    assert len(bodies) == 1
    assert "Idempotent-Replayed" not in responses[0]
    assert all(r["Idempotent-Replayed"] == "true" for r in responses[1:])
    assert Generation.objects.count() == 1
    assert Account.objects.get(pk=account.pk).credit_balance == 9
    assert CreditLedgerEntry.objects.filter(account=account, kind="reserve").count() == 1


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_parallel_identical_requests_one_generation_one_charge():
    account = AccountFactory(credits=5)
    key = api_key_for(account)
    image_id = _upload(ApiClient(key))
    results: list[tuple[int, str, str | None, str | None]] = []
    barrier = threading.Barrier(10)

    def send() -> None:
        client = ApiClient(key)
        barrier.wait()
        response = client.post_json(TRYON, _body(image_id), HTTP_IDEMPOTENCY_KEY="parallel-1")
        results.append(
            (
                response.status_code,
                json.dumps(response.json(), sort_keys=True),
                response.get("Idempotent-Replayed"),
                response.get("Retry-After"),
            )
        )
        connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One runs; the others either arrive while it is in flight (409 at once) or after it finished (replay).
    assert set(Counter(status for status, *_ in results)) <= {202, 409}
    accepted = [r for r in results if r[0] == 202]
    assert len([r for r in accepted if r[2] is None]) == 1
    assert all(r[2] == "true" for r in accepted if r is not accepted[0] and r[2] is not None)
    assert len({body for _, body, *_ in accepted}) == 1
    assert all(r[3] == "1" for r in results if r[0] == 409)
    assert Generation.objects.count() == 1
    assert Account.objects.get(pk=account.pk).credit_balance == 4


def test_same_key_different_body_is_422(api, account):
    image_id = _upload(api)
    assert api.post_json(TRYON, _body(image_id), HTTP_IDEMPOTENCY_KEY="k").status_code == 202
    other = _body(image_id)
    other["product"] = {**other["product"], "title": "Other"}
    response = api.post_json(TRYON, other, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert Generation.objects.count() == 1


def test_same_key_in_two_accounts_is_independent(db):
    first, second = AccountFactory(credits=2), AccountFactory(credits=2)
    ids = []
    for account in (first, second):
        client = ApiClient(api_key_for(account))
        response = client.post_json(TRYON, _body(_upload(client)), HTTP_IDEMPOTENCY_KEY="shared")
        assert response.status_code == 202
        assert "Idempotent-Replayed" not in response
        ids.append(response.json()["generationId"])
    assert len(set(ids)) == 2
    assert Generation.objects.filter(account=first).count() == 1
    assert Generation.objects.filter(account=second).count() == 1


def test_in_flight_duplicate_is_409(api, account):
    image_id = _upload(api)
    request_body = json.dumps(_body(image_id)).encode()
    from django.test import RequestFactory

    from tryon_project.api.idempotency import request_fingerprint

    raw = RequestFactory().post(TRYON, data=request_body, content_type="application/json")
    raw.content_type = "application/json"
    IdempotencyRecord.objects.create(account=account, key="busy", fingerprint=request_fingerprint(raw))
    response = api.post(TRYON, data=request_body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="busy")
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert response["Retry-After"] == "1"
    assert Generation.objects.count() == 0


def test_errors_are_replayed_but_5xx_is_not_cached(api, account, monkeypatch):
    response = api.post_json(TRYON, {"product": {"externalId": "x"}}, HTTP_IDEMPOTENCY_KEY="bad")
    assert response.status_code == 400
    again = api.post_json(TRYON, {"product": {"externalId": "x"}}, HTTP_IDEMPOTENCY_KEY="bad")
    assert again.status_code == 400 and again["Idempotent-Replayed"] == "true"
    assert again.json() == response.json()

    image_id = _upload(api)
    calls = {"n": 0}
    import generations.apis as apis

    real = apis.generation_create

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database fell over")
        return real(**kwargs)

    monkeypatch.setattr(apis, "generation_create", flaky)
    first = api.post_json(TRYON, _body(image_id), HTTP_IDEMPOTENCY_KEY="flaky")
    assert first.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="flaky").exists()
    second = api.post_json(TRYON, _body(image_id), HTTP_IDEMPOTENCY_KEY="flaky")
    assert second.status_code == 202 and "Idempotent-Replayed" not in second


def test_key_too_long(api):
    response = api.post_json(TRYON, {"product": {"externalId": "x"}}, HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert response.json()["details"] == [{"path": "Idempotency-Key", "message": "must be 1-255 characters"}]


def test_upload_and_products_are_idempotent(api, account):
    def upload():
        buffer = io.BytesIO(jpeg_bytes())
        buffer.name = "p.jpg"
        return api.post("/tryon/v1/images/upload", {"file": buffer, "crop": "false"}, HTTP_IDEMPOTENCY_KEY="up")

    first, second = upload(), upload()
    assert first.json() == second.json() and second["Idempotent-Replayed"] == "true"
    assert CustomerImage.objects.count() == 1
    product = {"externalId": "p1", "title": "T", "images": [{"url": "https://cdn.example/a.jpg"}]}
    a = api.post_json("/tryon/v1/products", product, HTTP_IDEMPOTENCY_KEY="prod")
    b = api.post_json("/tryon/v1/products", product, HTTP_IDEMPOTENCY_KEY="prod")
    assert (a.status_code, b.status_code) == (201, 201)
    assert b["Idempotent-Replayed"] == "true"


def test_records_expire_after_24h(api, account):
    import time_machine
    from django.utils import timezone

    from tryon_project.api.idempotency import idempotency_records_purge

    image_id = _upload(api)
    api.post_json(TRYON, _body(image_id), HTTP_IDEMPOTENCY_KEY="old")
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=25)):
        assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.exists()
