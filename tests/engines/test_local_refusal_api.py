"""A refusal of the local engine's quality gate, seen the way a client sees it: the try-on request is accepted
and charged, the generation ends FAILED with the gate's code and message, and the credit comes back."""

from __future__ import annotations

import io

import matplotlib.cbook
import pytest
from PIL import Image

from accounts.models import Account, CreditLedgerEntry
from engines.local import LocalEngine
from tests.generations import conftest as generation_fixtures
from tests.generations.helpers import TRYON

# The generations suite's fixtures: a local image server behind the safe fetcher, and an uploaded customer photo.
images = generation_fixtures.images
uploaded_image_id = generation_fixtures.uploaded_image_id


def _grace_hopper_jpeg() -> bytes:
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        image = Image.open(handle).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def local_engine():
    from generations.engine_config import engine_registry

    with engine_registry().override(name="*", engine=LocalEngine()) as engine:
        yield engine


def test_an_on_model_product_photo_fails_with_its_code_and_is_refunded(
    api,
    account,
    images,
    uploaded_image_id,
    local_engine,
    eager,
    django_capture_on_commit_callbacks,
) -> None:
    base, handler = images
    handler.routes["/on-model.jpg"] = (200, "image/jpeg", _grace_hopper_jpeg())
    product = {"title": "Navy uniform jacket", "images": [{"url": f"{base}/on-model.jpg"}], "externalId": "navy-1"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post_json(TRYON, {"product": product, "customer": {"id": uploaded_image_id}})
    assert response.status_code == 202, response.content
    generation_id = response.json()["generationId"]
    body = api.get(f"/tryon/v1/generations/{generation_id}").json()
    assert body["status"] == "FAILED"
    assert body["errorCode"] == "PRODUCT_PHOTO_UNSUPPORTED"
    assert "packshot or flat-lay" in body["errorMessage"]
    assert "resultImageUrl" not in body
    assert Account.objects.get(pk=account.pk).credit_balance == 10
    kinds = sorted(CreditLedgerEntry.objects.filter(generation_ref=generation_id).values_list("kind", flat=True))
    assert kinds == ["refund", "reserve"]
    assert handler.hits.count("/on-model.jpg") == 1  # fetched once: a refusal is not retried
