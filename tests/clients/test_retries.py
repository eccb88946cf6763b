"""Which failures the client sends again, and which it raises at once. A server that answers 5xx or drops the
connection on demand is a mock transport; the live server's own 429 and 409 answers are in test_errors.py."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest
from tryon_client import (
    APIConnectionError,
    IdempotencyKeyInUseError,
    ServerError,
    ServiceUnavailableError,
    TryOnClient,
    TryOnError,
    backoff_delay,
)

from tests.clients.conftest import PERSON, FakeTime

ERROR_503 = {
    "code": "SERVICE_UNAVAILABLE",
    "message": "A backing service is unavailable; retry shortly.",
    "status": 503,
}
ERROR_500 = {"code": "INTERNAL_ERROR", "message": "Internal error.", "status": 500}


def scripted(answers: list[Callable[[httpx2.Request], httpx2.Response]]):
    """A client whose server plays `answers` in order; returns (client, requests seen, fake time)."""
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        request.read()
        seen.append(request)
        return answers[len(seen) - 1](request)

    fake = FakeTime()
    client = TryOnClient(
        api_key="tok_x",
        base_url="http://api.test/tryon/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
        max_retries=2,
        sleep=fake.sleep,
        clock=fake.clock,
    )
    return client, seen, fake


def answer(status: int, body: dict, **headers: str):
    return lambda request: httpx2.Response(status, json=body, headers=headers)


def drop(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


def test_a_read_is_retried_after_503s_retry_after():
    client, seen, fake = scripted([answer(503, ERROR_503, **{"Retry-After": "5"}), answer(200, {"creditBalance": 3})])

    assert client.get_credits() == {"creditBalance": 3}
    assert len(seen) == 2
    assert fake.sleeps == [5.0]  # the server's delay is longer than the first backoff (0.25-0.5 s)


def test_a_write_without_idempotency_key_is_not_replayed_on_5xx():
    client, seen, fake = scripted([answer(500, ERROR_500)])

    with pytest.raises(ServerError) as raised:
        client.upload_image(file=PERSON)

    assert raised.value.code == "INTERNAL_ERROR" and len(seen) == 1 and fake.sleeps == []


def test_a_write_with_idempotency_key_is_replayed_whole_with_the_same_key():
    accepted = {"generationId": "gen_1", "status": "PENDING", "productExternalId": "tee"}
    client, seen, fake = scripted([answer(500, ERROR_500), answer(202, accepted)])

    with PERSON.open("rb") as photo:
        assert client.try_on(product={"externalId": "tee"}, person_photo=photo, idempotency_key="k-1") == accepted

    assert [r.headers["Idempotency-Key"] for r in seen] == ["k-1", "k-1"]
    # The file part went again from its first byte: the two bodies differ only by their multipart boundary.
    first, second = (r.content.replace(r.headers["content-type"].split("boundary=")[1].encode(), b"B") for r in seen)
    assert first == second
    assert PERSON.read_bytes() in seen[1].content
    assert len(fake.sleeps) == 1 and 0.25 <= fake.sleeps[0] <= 0.5


def test_dropped_connections_are_retried_for_reads_then_raised_without_status():
    client, seen, fake = scripted([drop, drop, drop])

    with pytest.raises(APIConnectionError) as raised:
        client.get_product("tee")

    assert (raised.value.code, raised.value.status) == ("CONNECTION_ERROR", None)
    assert "tee" not in str(raised.value)  # ids stay out of error texts, which end up in logs
    assert len(seen) == 3
    assert 0.25 <= fake.sleeps[0] <= 0.5 and 0.5 <= fake.sleeps[1] <= 1.0


def test_a_dropped_delete_of_a_product_is_not_replayed():
    """A replay after a lost 204 would answer 404 and hide that the delete happened."""
    client, seen, _ = scripted([drop])
    with pytest.raises(APIConnectionError):
        client.delete_product("tee")
    assert len(seen) == 1


def test_erasure_is_replayed_it_is_idempotent():
    client, seen, _ = scripted([answer(503, ERROR_503), lambda request: httpx2.Response(204)])
    assert client.erase_customer("shopper/42") is None
    assert [r.url.raw_path for r in seen] == [b"/tryon/v1/customers/shopper%2F42"] * 2


def test_retries_stop_at_max_retries():
    client, seen, fake = scripted([answer(503, ERROR_503)] * 3)
    with pytest.raises(ServiceUnavailableError):
        client.get_credits()
    assert len(seen) == 3 and len(fake.sleeps) == 2


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_is_exponential_capped_and_jittered_within_its_half(attempt):
    nominal = min(10.0, 0.5 * 2**attempt)
    delays = [backoff_delay(attempt=attempt, base=0.5, cap=10.0) for _ in range(200)]
    assert all(nominal / 2 <= d <= nominal for d in delays)
    assert len(set(delays)) > 1  # jittered, not a fixed schedule


def test_idempotency_key_in_use_is_sent_again_after_retry_after():
    in_use = {"code": "IDEMPOTENCY_KEY_IN_USE", "message": "still running", "status": 409}
    accepted = {"generationId": "gen_1", "status": "PENDING", "productExternalId": "tee"}
    client, seen, fake = scripted([answer(409, in_use, **{"Retry-After": "1"}), answer(202, accepted)])

    assert client.try_on(product={"externalId": "tee"}, customer={"id": "img_1"}, idempotency_key="k") == accepted
    assert len(seen) == 2 and fake.sleeps == [1.0]


def test_a_409_without_the_api_error_body_is_not_resent():
    """A proxy's 409 is not the API's IDEMPOTENCY_KEY_IN_USE: a try-on without a key must not be sent twice."""
    client, seen, fake = scripted([answer(409, None, **{"Retry-After": "1"})])
    with pytest.raises(TryOnError) as raised:
        client.get_product("tee")
    assert not isinstance(raised.value, IdempotencyKeyInUseError)
    assert (raised.value.code, raised.value.status) == ("UNKNOWN_ERROR", 409)
    assert len(seen) == 1 and fake.sleeps == []
