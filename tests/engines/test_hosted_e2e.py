"""Hosted and self-hosted engines end to end, the way a client drives them: POST /try-on in, poll out.

The cog engine runs against a local server speaking Cog's prediction API and the replicate engine against one
speaking Replicate's; the generation is run eagerly through the real task and pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts.models import Account
from engines.base import EngineError, EngineErrorCode, GarmentPhotoType, Quality
from generations import tasks
from generations.engine_config import engine_registry
from generations.models import EngineProviderError, Generation
from generations.selectors import account_engine_status
from tests.engines.hosted_servers import RESULT_B64, CogServer, FakeGoogle, FashnServer, ReplicateServer, serve
from tests.generations import conftest as generation_fixtures
from tests.generations.helpers import TRYON, FakeEngine

GENERATIONS = "/tryon/v1/generations"
# The generation tests' fixtures: a local image server behind the safe fetcher, and an uploaded shopper photo.
images = generation_fixtures.images
uploaded_image_id = generation_fixtures.uploaded_image_id


def _body(base: str, image_id: str, **extra: object) -> dict[str, object]:
    product = {"externalId": "shirt-42", "title": "Red tee", "images": [{"url": f"{base}/shirt.jpg"}]}
    return {"product": product, "customer": {"id": image_id}, **extra}


def _balance(account: Account) -> int:
    return Account.objects.get(pk=account.pk).credit_balance


def _try_on(api, django_capture_on_commit_callbacks, body: dict[str, object]) -> dict[str, object]:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post_json(TRYON, body)
    assert response.status_code == 202, response.content
    poll = api.get(f"{GENERATIONS}/{response.json()['generationId']}")
    assert poll.status_code == 200
    return poll.json()


@pytest.fixture
def cog_server(settings) -> Iterator[CogServer]:
    server = CogServer()
    with serve(server.handler()) as url:
        server.url = url
        settings.TRYON_COG_URL = url
        settings.TRYON_COG_PRESET = "idm-vton"
        settings.TRYON_HOSTED_TIMEOUT_SECONDS = 5
        yield server


@pytest.fixture
def replicate_server(settings, images) -> Iterator[ReplicateServer]:
    server = ReplicateServer()
    with serve(server.handler()) as url:
        server.url = url
        # Its output file is downloaded through the safe fetcher, like the product image from `images`.
        settings.TRYON_FETCH_ALLOWED_PORTS = [*settings.TRYON_FETCH_ALLOWED_PORTS, int(url.rsplit(":", 1)[1])]
        settings.TRYON_REPLICATE_API_TOKEN = server.token
        settings.TRYON_REPLICATE_BASE_URL = url
        settings.TRYON_REPLICATE_WAIT_SECONDS = 2
        settings.TRYON_HOSTED_TIMEOUT_SECONDS = 5
        yield server


def test_cog_engine_completes_a_try_on_end_to_end(
    api,
    account,
    images,
    uploaded_image_id,
    cog_server,
    eager,
    django_capture_on_commit_callbacks,
):
    account.engine = "cog"
    account.save(update_fields=["engine"])
    base, _ = images

    body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id, options={"seed": 1234}))

    assert body["status"] == "COMPLETED" and "resultImageUrl" in body
    [run] = cog_server.runs
    assert run.input["seed"] == 1234 and run.input["human_img"].startswith("data:image/jpeg;base64,")
    generation = Generation.objects.get(id=body["generationId"])
    assert generation.provider_job_id == run.id
    assert (generation.timings["engine"], generation.timings["engine_version"]) == ("cog", "cog:idm-vton")
    assert _balance(account) == 9


def test_replicate_engine_completes_a_try_on_end_to_end(
    api, account, images, uploaded_image_id, replicate_server, eager, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.TRYON_ENGINE = "replicate"
    base, _ = images

    body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id, options={"seed": 77}))

    assert body["status"] == "COMPLETED"
    [prediction] = replicate_server.predictions.values()
    assert prediction.input["seed"] == 77 and prediction.model == "cuuupid/idm-vton"
    assert Generation.objects.get(id=body["generationId"]).provider_job_id == prediction.id
    # The result was fetched from the delivery URL through the safe fetcher.
    assert any(r.path.startswith("/delivery/") for r in replicate_server.seen)


def test_busy_cog_container_is_retried_then_completes(
    api, account, images, uploaded_image_id, cog_server, eager, settings, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.TRYON_ENGINE = "cog"
    cog_server.occupy()
    countdowns: list[float] = []
    original_retry = tasks.generation_run.retry

    def retry_once_free(*args, countdown=None, **kwargs):
        countdowns.append(countdown)
        cog_server.release()  # the other prediction finishes before the retry runs
        return original_retry(*args, countdown=countdown, **kwargs)

    monkeypatch.setattr(tasks.generation_run, "retry", retry_once_free)
    base, _ = images

    body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert body["status"] == "COMPLETED"
    assert countdowns == [10.0]  # the container's busy delay, not the fixed 5 s backoff
    assert len(cog_server.runs) == 1


def test_failed_cog_prediction_fails_the_generation_records_the_error_and_refunds(
    api, account, images, uploaded_image_id, cog_server, eager, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.TRYON_ENGINE = "cog"
    cog_server.fail_with = "CUDA out of memory"
    base, _ = images

    body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert (body["status"], body["errorCode"]) == ("FAILED", "ENGINE_ERROR")
    assert "CUDA out of memory" in body["errorMessage"]
    assert _balance(account) == 10
    status = account_engine_status(account=account)
    assert (status.engine, status.licence) == ("cog", "IDM-VTON: CC BY-NC-SA 4.0")
    assert status.last_error is not None and "CUDA out of memory" in status.last_error.message


def test_per_minute_rate_limit_retries_after_the_providers_delay(
    api,
    account,
    images,
    uploaded_image_id,
    eager,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    engine = FakeEngine(
        errors=[EngineError(EngineErrorCode.ENGINE_ERROR, "HTTP 429 per minute", retryable=True, retry_after=36.0)]
    )
    countdowns: list[float] = []
    original_retry = tasks.generation_run.retry

    def recording_retry(*args, countdown=None, **kwargs):
        countdowns.append(countdown)
        return original_retry(*args, countdown=countdown, **kwargs)

    monkeypatch.setattr(tasks.generation_run, "retry", recording_retry)
    base, _ = images
    with engine_registry().override(name="*", engine=engine):
        body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert body["status"] == "COMPLETED"
    assert countdowns == [36.0]
    assert len(engine.calls) == 2


def test_daily_quota_fails_at_once_with_its_code_and_shows_in_the_operator_view(
    api,
    account,
    images,
    uploaded_image_id,
    eager,
    django_capture_on_commit_callbacks,
):
    engine = FakeEngine(
        errors=[EngineError(EngineErrorCode.ENGINE_QUOTA_EXCEEDED, "Gemini daily quota is exhausted")] * 3
    )
    base, _ = images
    with engine_registry().override(name="*", engine=engine):
        body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert (body["status"], body["errorCode"]) == ("FAILED", "ENGINE_QUOTA_EXCEEDED")
    assert len(engine.calls) == 1  # no retry
    assert _balance(account) == 10
    [recorded] = EngineProviderError.objects.filter(account=account)
    assert (recorded.engine, recorded.code, recorded.retryable) == ("local", "ENGINE_QUOTA_EXCEEDED", False)


def test_input_errors_are_not_recorded_as_provider_errors(
    api,
    account,
    images,
    uploaded_image_id,
    eager,
    django_capture_on_commit_callbacks,
):
    engine = FakeEngine(errors=[EngineError(EngineErrorCode.PERSON_NOT_DETECTED, "no person")])
    base, _ = images
    with engine_registry().override(name="*", engine=engine):
        body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert body["errorCode"] == "PERSON_NOT_DETECTED"
    assert not EngineProviderError.objects.exists()


class ResumingEngine(FakeEngine):
    """Submits a provider job on its first attempt and times out; a later attempt must be handed that job."""

    def run(self, request):
        if not request.resume_job_id:
            self.calls.append(request)
            request.on_job_submitted("job-1")
            raise EngineError(EngineErrorCode.ENGINE_ERROR, "did not finish in time", retryable=True)
        return super().run(request)


def test_a_retried_attempt_is_given_the_job_id_the_first_one_submitted(
    api,
    account,
    images,
    uploaded_image_id,
    eager,
    django_capture_on_commit_callbacks,
):
    engine = ResumingEngine()
    base, _ = images
    with engine_registry().override(name="*", engine=engine):
        body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert body["status"] == "COMPLETED"
    assert [call.resume_job_id for call in engine.calls] == ["", "job-1"]
    assert Generation.objects.get(id=body["generationId"]).provider_job_id == "job-1"


def test_options_reach_the_engine_and_are_stored(
    api,
    account,
    images,
    uploaded_image_id,
    fake_engine,
    eager,
    django_capture_on_commit_callbacks,
):
    base, _ = images
    options = {"seed": 2147483647, "quality": "fast", "garmentPhotoType": "flat-lay"}

    body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id, options=options))

    assert body["status"] == "COMPLETED"
    assert Generation.objects.get(id=body["generationId"]).engine_options == options
    [call] = fake_engine.calls
    assert (call.options.seed, call.options.quality, call.options.garment_photo_type) == (
        2147483647,
        Quality.FAST,
        GarmentPhotoType.FLAT_LAY,
    )
    assert call.options.requested == {"seed", "quality", "garmentPhotoType"}


def test_an_option_the_engine_cannot_honour_is_listed_in_the_timings(
    api, account, images, uploaded_image_id, cog_server, eager, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.TRYON_ENGINE = "cog"
    base, _ = images

    body = _try_on(
        api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id, options={"garmentPhotoType": "model"})
    )

    assert Generation.objects.get(id=body["generationId"]).timings["ignored_options"] == ["garmentPhotoType"]


def test_invalid_options_are_refused_with_every_field_and_nothing_is_created(
    api,
    account,
    images,
    uploaded_image_id,
    django_capture_on_commit_callbacks,
):
    base, _ = images
    options = {"seed": -1, "quality": "best", "garmentPhotoType": "hanger", "steps": 30}
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post_json(TRYON, _body(base, uploaded_image_id, options=options))

    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "VALIDATION_FAILED"
    assert sorted(d["path"] for d in payload["details"]) == [
        "options.garmentPhotoType",
        "options.quality",
        "options.seed",
        "options.steps",
    ]
    assert Generation.objects.count() == 0 and callbacks == []
    assert _balance(account) == 10


@pytest.mark.parametrize("options", [[], "fast", {"seed": True}, {"seed": 2**31}, {"seed": 1.5}])
def test_malformed_options_are_refused(api, account, images, uploaded_image_id, options):
    base, _ = images
    response = api.post_json(TRYON, _body(base, uploaded_image_id, options=options))

    assert response.status_code == 400
    assert response.json()["details"][0]["path"].startswith("options")


def test_fashn_attempt_that_times_out_is_resumed_by_the_retry_with_one_submission(
    api, account, images, uploaded_image_id, eager, settings, django_capture_on_commit_callbacks
):
    fashn = FashnServer(run_seconds=1.6)
    with serve(fashn.handler()) as url:
        fashn.url = url
        settings.TRYON_ENGINE = "fashn"
        settings.TRYON_FASHN_API_KEY = fashn.api_key
        settings.TRYON_FASHN_BASE_URL = url
        settings.TRYON_HOSTED_TIMEOUT_SECONDS = 1.0  # the job takes longer than one attempt
        base, _ = images

        body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id, options={"seed": 5}))

    assert body["status"] == "COMPLETED"
    assert fashn.credits_used == 1  # one submission, one charge
    [job_id] = fashn.jobs
    generation = Generation.objects.get(id=body["generationId"])
    assert (generation.provider_job_id, generation.attempts) == (job_id, 2)
    assert fashn.jobs[job_id][1]["inputs"]["seed"] == 5
    polled = [r.path for r in fashn.seen if r.method == "GET"]
    assert polled and set(polled) == {f"/v1/status/{job_id}"}


def _gemini_429(quota_id: str, delay: str) -> dict[str, object]:
    # The Gemini API's 429 as it is sent: QuotaFailure naming the quota, Help, RetryInfo.
    return {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaMetric": "generativelanguage.googleapis.com/requests", "quotaId": quota_id}],
                },
                {"@type": "type.googleapis.com/google.rpc.Help", "links": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ],
        }
    }


@pytest.fixture
def gemini_google(settings, monkeypatch) -> Iterator[FakeGoogle]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeGoogle()
    with serve(fake.handler()) as url:
        fake.url = url + "/"
        settings.TRYON_ENGINE = "gemini"
        settings.TRYON_GEMINI_API_KEY = "gem-key"
        settings.TRYON_GEMINI_BASE_URL = fake.url
        settings.TRYON_HOSTED_TIMEOUT_SECONDS = 5
        yield fake
        fake.release.set()


GEMINI_IMAGE = {
    "candidates": [
        {"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": RESULT_B64}}]}, "finishReason": "STOP"}
    ]
}


def test_gemini_per_minute_429_is_retried_after_its_retry_delay_end_to_end(
    api, account, images, uploaded_image_id, gemini_google, eager, monkeypatch, django_capture_on_commit_callbacks
):
    gemini_google.reply(429, _gemini_429("GenerateRequestsPerMinutePerProjectPerModel", "36s"))
    gemini_google.reply(200, GEMINI_IMAGE)
    countdowns: list[float] = []
    original_retry = tasks.generation_run.retry

    def recording_retry(*args, countdown=None, **kwargs):
        countdowns.append(countdown)
        return original_retry(*args, countdown=countdown, **kwargs)

    monkeypatch.setattr(tasks.generation_run, "retry", recording_retry)
    base, _ = images

    body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert body["status"] == "COMPLETED"
    assert countdowns == [36.0]
    assert len(gemini_google.seen) == 2


def test_gemini_daily_quota_fails_at_once_end_to_end(
    api, account, images, uploaded_image_id, gemini_google, eager, django_capture_on_commit_callbacks
):
    gemini_google.reply(429, _gemini_429("GenerateRequestsPerDayPerProjectPerModel", "4s"))
    base, _ = images

    body = _try_on(api, django_capture_on_commit_callbacks, _body(base, uploaded_image_id))

    assert (body["status"], body["errorCode"]) == ("FAILED", "ENGINE_QUOTA_EXCEEDED")
    assert len(gemini_google.seen) == 1  # not retried
    assert _balance(account) == 10
    status = account_engine_status(account=account)
    assert (status.engine, status.model_id) == ("gemini", "gemini-3.1-flash-image")
    assert status.last_error.code == "ENGINE_QUOTA_EXCEEDED"
