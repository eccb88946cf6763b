"""Typed errors: every code of the server's catalogue has its class, and real answers of the live server become
those classes with their code, status, message, details, request id and `Retry-After`."""

from __future__ import annotations

import typing

import httpx2
import pytest
import tryon_client
from tryon_client import (
    ERROR_CODES,
    AuthenticationError,
    GenerationNotFoundError,
    IdempotencyKeyReusedError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    ProductNotFoundError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    TryOnClient,
    TryOnError,
    ValidationError,
    error_class_for,
    error_from_answer,
    retry_after_seconds,
)
from tryon_client.models import GenerationErrorCode

from accounts.models import Account
from accounts.throttling import limiter
from customers.models import CustomerImage
from generations.models import Generation
from products.models import Product
from tests.clients.conftest import GARMENT, PERSON
from tryon_project.api.errors import ErrorCode
from tryon_project.api.errors import GenerationErrorCode as ServerGenerationErrorCode

# --- the catalogue ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_every_catalogue_code_maps_to_a_class_of_its_status(code):
    status, cls = ERROR_CODES[code.name]
    assert status == code.http_status
    assert cls is error_class_for(code=code.name, status=code.http_status)
    assert issubclass(cls, TryOnError) and cls is not TryOnError


def test_the_client_knows_no_code_the_catalogue_lacks():
    assert set(ERROR_CODES) == {code.name for code in ErrorCode}
    assert set(typing.get_args(GenerationErrorCode)) == {code.name for code in ServerGenerationErrorCode}


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("SOME_NEW_CODE", 404, NotFoundError),
        ("SOME_NEW_CODE", 429, RateLimitedError),
        ("SOME_NEW_CODE", 502, ServerError),
        ("SOME_NEW_CODE", 418, TryOnError),
    ],
)
def test_a_code_the_client_does_not_know_gets_the_class_of_its_status(code, status, expected):
    assert error_class_for(code=code, status=status) is expected


def test_an_answer_without_the_api_error_body_is_still_typed():
    """A proxy in front of the server answers with its own page: the status decides the class."""
    transport = httpx2.MockTransport(lambda request: httpx2.Response(502, text="<html>Bad gateway</html>"))
    client = TryOnClient(
        api_key="tok_x", base_url="http://api.test/tryon/v1", http_client=httpx2.Client(transport=transport)
    )
    with pytest.raises(ServerError) as raised:
        client.get_credits()
    assert (raised.value.code, raised.value.status, raised.value.details) == ("UNKNOWN_ERROR", 502, [])


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds(header="7") == 7.0
    assert retry_after_seconds(header=" 1.5 ") == 1.5
    assert retry_after_seconds(header="-3") == 0.0
    assert retry_after_seconds(header="Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10.0
    assert retry_after_seconds(header="soon") is None
    assert retry_after_seconds(header=None) is None


def test_error_fields_come_from_the_body_and_headers():
    error = error_from_answer(
        status=503,
        body={"code": "SERVICE_UNAVAILABLE", "message": "down", "status": 503},
        headers={"X-Request-ID": "req-1", "Retry-After": "5"},
    )
    assert isinstance(error, ServiceUnavailableError) and isinstance(error, ServerError)
    assert (error.code, error.status, error.message, error.request_id, error.retry_after) == (
        "SERVICE_UNAVAILABLE",
        503,
        "down",
        "req-1",
        5.0,
    )
    assert str(error) == "503 SERVICE_UNAVAILABLE: down [request id req-1]"


def test_the_package_exports_every_error_class():
    for _, cls in ERROR_CODES.values():
        assert getattr(tryon_client, cls.__name__) is cls


# --- real answers of the live server ---------------------------------------------------------------------------

live = pytest.mark.django_db(transaction=True)


@live
def test_bad_key_is_an_authentication_error_with_the_request_id(client_for):
    merchant = client_for(api_key="tok_not-a-key")

    with pytest.raises(AuthenticationError) as raised:
        merchant.client.get_credits(request_id="trace-401")

    error = raised.value
    assert (error.code, error.status, error.message) == ("INVALID_API_KEY", 401, "Invalid API key.")
    assert error.request_id == "trace-401"
    assert merchant.answers[-1][3]["x-request-id"] == "trace-401"


@live
def test_not_found_and_forbidden(client_for, eager_celery):
    owner, other = client_for(), client_for()
    with pytest.raises(GenerationNotFoundError) as raised:
        owner.client.get_generation("gen_doesnotexist")
    assert (raised.value.code, raised.value.status) == ("GENERATION_NOT_FOUND", 404)
    assert raised.value.request_id == owner.answers[-1][3]["x-request-id"]
    with pytest.raises(ProductNotFoundError) as product_raised:
        owner.client.try_on(product={"externalId": "never-sent"}, person_photo=PERSON)
    assert product_raised.value.message == "Product 'never-sent' not found."

    accepted = owner.client.try_on(product={"title": "mock"}, garment_photos=[GARMENT], person_photo=PERSON)
    with pytest.raises(PermissionDeniedError) as forbidden:
        other.client.get_generation(accepted["generationId"])
    assert (forbidden.value.code, forbidden.value.status) == ("FORBIDDEN", 403)


@live
def test_validation_error_carries_the_details(client_for):
    merchant = client_for()

    with pytest.raises(ValidationError) as raised:
        merchant.client.upload_image(file=PERSON, retention_days=5)  # type: ignore[arg-type]

    error = raised.value
    assert (error.code, error.status) == ("VALIDATION_FAILED", 400)
    assert error.details == [{"path": "retentionDays", "message": "must be one of 1, 3, 7"}]
    assert not CustomerImage.objects.filter(account=merchant.account).exists()

    with pytest.raises(ValidationError) as not_an_image:
        merchant.client.upload_image(file=b"not an image at all")
    assert not_an_image.value.code == "INVALID_IMAGE"


@live
def test_out_of_credits_creates_and_charges_nothing(client_for):
    merchant = client_for(credits=0)

    with pytest.raises(InsufficientCreditsError) as raised:
        merchant.client.try_on(
            product={"externalId": "tee-x", "title": "Tee"},
            garment_photos=[GARMENT],
            person_photo=PERSON,
            customer_id="shopper-0",
        )

    assert (raised.value.code, raised.value.status) == ("INSUFFICIENT_CREDITS", 402)
    assert not Generation.objects.filter(account=merchant.account).exists()
    assert not CustomerImage.objects.filter(account=merchant.account).exists()
    assert not Product.objects.filter(account=merchant.account).exists()
    assert Account.objects.get(pk=merchant.account.pk).credit_balance == 0


@live
def test_rate_limited_carries_retry_after_and_does_nothing(client_for):
    merchant = client_for(rate_limit=2)
    merchant.client.get_credits()
    merchant.client.get_credits()

    with pytest.raises(RateLimitedError) as raised:
        merchant.client.upload_image(file=PERSON)

    error = raised.value
    header = merchant.answers[-1][3]["retry-after"]
    assert (error.code, error.status) == ("RATE_LIMITED", 429)
    assert error.retry_after == float(header) and 1 <= error.retry_after <= 60
    assert not CustomerImage.objects.filter(account=merchant.account).exists()


@live
def test_rate_limited_call_is_sent_again_after_retry_after(client_for):
    merchant = client_for(rate_limit=1, max_retries=1)
    # The real wait would let the window lapse; the fake one lapses it by hand.
    merchant.time.on_sleep = lambda seconds: limiter().storage.reset()
    merchant.client.get_credits()

    assert merchant.client.get_credits() == {"creditBalance": 10}

    statuses = [status for _, _, status, _ in merchant.answers]
    assert statuses == [200, 429, 200]
    assert merchant.time.sleeps == [float(merchant.answers[1][3]["retry-after"])]


@live
def test_a_retry_after_above_max_retry_wait_is_raised_not_slept(client_for):
    merchant = client_for(rate_limit=1, max_retries=3)
    merchant.client.max_retry_wait = 0.5
    merchant.client.get_credits()

    with pytest.raises(RateLimitedError):
        merchant.client.get_credits()
    assert merchant.time.sleeps == []


@live
def test_idempotency_key_replays_and_refuses_reuse(client_for, eager_celery):
    merchant = client_for(credits=5)
    upload = merchant.client.upload_image(file=PERSON)
    product = {"externalId": "tee-i", "title": "Tee"}

    first = merchant.client.try_on(
        product=product, garment_photos=[GARMENT], customer={"id": upload["imageId"]}, idempotency_key="order-1"
    )
    again = merchant.client.try_on(
        product=product, garment_photos=[GARMENT], customer={"id": upload["imageId"]}, idempotency_key="order-1"
    )

    assert again == first
    assert merchant.answers[-1][3]["idempotent-replayed"] == "true"
    assert Generation.objects.filter(account=merchant.account).count() == 1
    assert Account.objects.get(pk=merchant.account.pk).credit_balance == 4
    with pytest.raises(IdempotencyKeyReusedError) as raised:
        merchant.client.try_on(
            product={"externalId": "tee-other"}, customer={"id": upload["imageId"]}, idempotency_key="order-1"
        )
    assert (raised.value.code, raised.value.status) == ("IDEMPOTENCY_KEY_REUSED", 422)
    assert Generation.objects.filter(account=merchant.account).count() == 1
