"""The playground sends the API's per-call engine options (`options.seed`, `options.quality`,
`options.garmentPhotoType`) through the API's own validator, and shows which ones the engine ignored."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account, CreditLedgerEntry
from engines.base import EngineOptions, GarmentPhotoType, Quality, TryOnRequest
from engines.mock import MockEngine
from generations.engine_options import SEED_MAX
from generations.models import Generation
from tests.generations.helpers import FakeEngine
from tests.images import jpeg_bytes

D = "/dashboard/generations/generation"


class SeedOnlyEngine(FakeEngine):
    """Honours the seed and nothing else, and says so the way the hosted engines do."""

    name = "seed-only"

    def run(self, request: TryOnRequest):
        result = super().run(request)
        ignored = sorted(request.options.requested - {"seed"})
        result.diagnostics.update({"ignored_options": ignored} if ignored else {})
        return result


@pytest.fixture
def seed_only(eager):
    from generations.engine_config import engine_registry

    engine = SeedOnlyEngine()
    with engine_registry().override(name="*", engine=engine):
        yield engine


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("me.jpg", jpeg_bytes(width=600, height=750), content_type="image/jpeg")


def _garment() -> SimpleUploadedFile:
    # An uploaded one-off garment: the shops' catalog images live at addresses the tests cannot reach.
    return SimpleUploadedFile("g.jpg", jpeg_bytes(color=(20, 20, 200)), content_type="image/jpeg")


def _new(account: Account, *, before: set[str]) -> Generation:
    return Generation.objects.exclude(pk__in=before).get(account=account)


def test_the_form_offers_every_option_the_api_accepts(alpha):
    page = alpha.login().get(f"{D}/try-on/").content.decode()
    assert f'name="seed" min="0" max="{SEED_MAX}"' in page
    for value in ("fast", "balanced", "quality"):
        assert f'<option value="{value}">{value}</option>' in page
    for value in ("auto", "flat-lay", "model"):
        assert f'<option value="{value}">{value}</option>' in page


def test_options_reach_the_engine_and_the_ignored_ones_are_shown(alpha, seed_only, django_capture_on_commit_callbacks):
    alice = alpha.login()
    before = set(Generation.objects.values_list("pk", flat=True))
    form = {"photo": _photo(), "garment": _garment(), "category": "tops", "seed": "1234", "quality": "quality"}
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(f"{D}/try-on/", {**form, "garment_photo_type": "flat-lay"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    generation = _new(alpha.account, before=before)
    # Stored as the API would store {"options": {...}}, and handed to the engine as typed options.
    assert generation.engine_options == {"seed": 1234, "quality": "quality", "garmentPhotoType": "flat-lay"}
    [call] = seed_only.calls
    assert call.options == EngineOptions(
        seed=1234,
        quality=Quality.QUALITY,
        garment_photo_type=GarmentPhotoType.FLAT_LAY,
        requested=frozenset({"seed", "quality", "garmentPhotoType"}),
    )
    assert generation.timings["ignored_options"] == ["garmentPhotoType", "quality"]
    state = alice.get(f"{D}/try-on/{generation.pk}/status/").json()
    assert state["options"] == {"seed": 1234, "quality": "quality", "garmentPhotoType": "flat-lay"}
    assert state["ignoredOptions"] == ["garmentPhotoType", "quality"]
    page = alice.get(response["Location"]).content.decode()
    assert 'data-ignored="garmentPhotoType,quality"' in page
    assert "Ignored by the engine: <code>garmentPhotoType</code>, <code>quality</code>" in page
    assert "Options sent: <code>seed</code> 1234, <code>quality</code> quality" in page


def test_no_option_chosen_sends_none(alpha, seed_only, django_capture_on_commit_callbacks):
    alice = alpha.login()
    before = set(Generation.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            f"{D}/try-on/",
            {
                "recent_photo": alpha.upload.pk,
                "garment": _garment(),
                "category": "tops",
                "seed": "",
                "quality": "",
                "garment_photo_type": "",
            },
        )
    assert response.status_code == 302
    generation = _new(alpha.account, before=before)
    assert generation.engine_options == {}
    assert seed_only.calls[0].options == EngineOptions()
    assert "ignored_options" not in generation.timings
    page = alice.get(response["Location"]).content.decode()
    assert "Options sent: none" in page and "Ignored by the engine: none reported" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("seed", "-1"), ("seed", str(SEED_MAX + 1)), ("seed", "12.5"), ("quality", "best"), ("garment_photo_type", "x")],
)
def test_a_bad_option_is_refused_and_creates_nothing(alpha, seed_only, field, value):
    alice = alpha.login()
    before = (Generation.objects.count(), CreditLedgerEntry.objects.count())
    response = alice.post(f"{D}/try-on/", {"recent_photo": alpha.upload.pk, "product": "alpha-tee", field: value})
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert (Generation.objects.count(), CreditLedgerEntry.objects.count()) == before
    assert Account.objects.get(pk=alpha.account.pk).credit_balance == alpha.account.credit_balance
    assert seed_only.calls == []


def test_the_mock_engine_reports_every_option_sent_as_ignored():
    person = jpeg_bytes()
    sent = EngineOptions(seed=7, quality=Quality.FAST, requested=frozenset({"seed", "quality"}))
    result = MockEngine().run(TryOnRequest(person_image=person, garment_images=(), options=sent))
    assert result.diagnostics == {"ignored_options": ["quality", "seed"]}
    assert result.image is person
    assert MockEngine().run(TryOnRequest(person_image=person, garment_images=())).diagnostics == {}
