"""Contract fuzzing: schemathesis generates valid and invalid requests for every operation of
`/tryon/v1/openapi.json` and checks each answer against the schema.

Runs in-process through the WSGI app inside the test's database transaction, with a real API key of an account
that has plenty of credits and a rate limit that fuzzing cannot reach. Tasks go to the in-memory broker
(tests/conftest.py), so no engine runs; `/try-on/sync` answers 202 at once (no wait)."""

from __future__ import annotations

import json
import os
import warnings

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from generations.serializers import TRYON_EXAMPLES_JSON, TRYON_EXAMPLES_MULTIPART
from tests.factories import AccountFactory, api_key_for
from tryon_project.api.errors import ErrorCode

# Examples per operation: 11 operations x 50 keeps the run near a minute on two cores; raise it locally with
# CONTRACT_MAX_EXAMPLES (and CONTRACT_RANDOM=1 for fresh seeds) to search harder.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "50"))


@pytest.fixture
def fuzz_key(db, settings):
    settings.TRYON_SYNC_WAIT_SECONDS = 0
    account = AccountFactory(credits=1_000_000, rate_limit_per_minute=100_000_000)
    # The bare WSGI app closes "old" connections at every request boundary, which would close the test's own
    # connection in the middle of its transaction; Django's test client disconnects these handlers the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield api_key_for(account)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# Loaded at collection from the app itself (the schema view needs no database). Not through
# `schemathesis.pytest.from_fixture`: its lazy loader breaks on pytest 9 (`Function._nodeid`).
schema = schemathesis.openapi.from_wsgi("/tryon/v1/openapi.json", get_wsgi_application())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    # Fixed seeds per operation: a CI failure reproduces on the next run instead of flaking.
    deterministic=os.environ.get("CONTRACT_RANDOM") != "1",
    # docs/api.md: unknown request fields are ignored, not an error; an unknown query parameter is no negative case.
    allow_extra_parameters=False,
)


# What a JSON schema cannot say: whether bytes are a decodable photo of at least 64 px, whether a URL can be
# downloaded (nothing can be from here), whether a fileKey names a part that was sent, which one of several
# optional shapes a body uses, whether an imageId exists. Schema-valid data may meet these and only these.
SEMANTIC_400 = {
    # The multipart parser drops a file part of zero bytes: the upload then has no file.
    ErrorCode.FILE_REQUIRED,
    ErrorCode.INVALID_IMAGE,
    ErrorCode.CUSTOMER_IMAGE_FETCH_FAILED,
    ErrorCode.CUSTOMER_IMAGE_REQUIRED,
    ErrorCode.PRODUCT_IMAGES_REQUIRED,
    ErrorCode.MULTIPART_FILE_NOT_FOUND,
    ErrorCode.INVALID_IMAGE_INPUT,
    ErrorCode.VALIDATION_FAILED,
}


@schemathesis.check
def positive_data_accepted_or_semantically_refused(ctx, response, case):
    """Schemathesis' `positive_data_acceptance`, except for the content rules listed in SEMANTIC_400; a
    schema-valid request must never be MALFORMED_REQUEST, UNSUPPORTED_MEDIA_TYPE or a 5xx."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code in {401, 402, 403, 404, 409, 413, 429}:
        return None
    # Fuzzing sends one generated Idempotency-Key with several bodies: the repeats are refused, as documented.
    if response.status_code == 422 and response.json().get("code") == ErrorCode.IDEMPOTENCY_KEY_REUSED.name:
        return None
    body = response.json() if response.status_code == 400 else {}
    if body.get("code") in {c.name for c in SEMANTIC_400}:
        return None
    # A schema string may hold NUL; PostgreSQL text cannot, so such a path or query value is refused up front.
    if body.get("code") == ErrorCode.MALFORMED_REQUEST.name and "NUL" in body.get("message", ""):
        return None
    code = body.get("code")
    raise AssertionError(f"schema-valid request refused with {response.status_code} {code or ''}")


@schema.parametrize()
@hypothesis_settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_every_operation_conforms(case, fuzz_key):
    case.call_and_validate(
        headers={"x-api-key": fuzz_key},
        excluded_checks=[checks.positive_data_acceptance],
        additional_checks=[positive_data_accepted_or_semantically_refused],
    )


def test_fuzzing_covers_every_operation_of_the_spec():
    operations = {(result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()}
    assert operations == {
        ("POST", "/tryon/v1/images/upload"),
        ("POST", "/tryon/v1/try-on"),
        ("POST", "/tryon/v1/try-on/sync"),
        ("GET", "/tryon/v1/generations/{generation_id}"),
        ("GET", "/tryon/v1/account/credits"),
        ("DELETE", "/tryon/v1/customers/{customer_id}"),
        ("POST", "/tryon/v1/products"),
        ("GET", "/tryon/v1/products"),
        ("GET", "/tryon/v1/products/{external_id}"),
        ("DELETE", "/tryon/v1/products/{external_id}"),
        ("GET", "/tryon/v1/products/{external_id}/stats"),
    }


def test_fuzzing_starts_from_the_documented_examples():
    """The examples phase (on by default) sends every request example of the document before fuzzing around them,
    so each accepted shape is exercised on every run."""
    from hypothesis.errors import NonInteractiveExampleWarning
    from schemathesis.specs.openapi.examples import get_strategies_from_examples

    operation = schema["/tryon/v1/try-on"]["POST"]
    assert schema.config.phases.examples.enabled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        seeded = {
            (case.media_type, json.dumps(case.body, sort_keys=True))
            for case in (strategy.example() for strategy in get_strategies_from_examples(operation))
        }
    documented = {("application/json", json.dumps(body, sort_keys=True)) for body in TRYON_EXAMPLES_JSON.values()}
    documented |= {
        ("multipart/form-data", json.dumps({"data": body}, sort_keys=True))
        for body in TRYON_EXAMPLES_MULTIPART.values()
    }
    assert documented <= seeded
