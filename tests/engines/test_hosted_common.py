"""Shared pieces of the hosted adapters: Retry-After, output images given as data URLs or URLs, presets."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from engines.base import EngineError, EngineErrorCode
from engines.hosted.common import OutputFetchError, output_image, retry_after_seconds
from engines.hosted.presets import preset_from_json, preset_get
from tests.engines.hosted_servers import RESULT, RESULT_B64

DATA_URL = f"data:image/png;base64,{RESULT_B64}"


@pytest.mark.parametrize(
    ("value", "expected"), [("7", 7.0), (" 2.5 ", 2.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)]
)
def test_retry_after_seconds(value, expected):
    assert retry_after_seconds(value) == expected


def test_retry_after_http_date():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(later, now=now.timestamp()) == 90.0


@pytest.mark.parametrize("value", [DATA_URL, [DATA_URL, "data:ignored"], {"image": DATA_URL}])
def test_output_image_shapes(value):
    assert output_image(value, fetch=_no_fetch, provider="P") == (RESULT, "image/png")


def test_output_url_is_fetched_and_its_type_read_from_the_bytes():
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return RESULT

    assert output_image("https://cdn.example/out.webp", fetch=fetch, provider="P") == (RESULT, "image/png")
    assert fetched == ["https://cdn.example/out.webp"]


@pytest.mark.parametrize(
    ("value", "retryable"),
    [
        (None, True),
        ([], True),
        ("data:image/png;base64,@@@", True),
        ("data:image/png,raw", True),
        ("file:///etc/passwd", False),
    ],
)
def test_output_image_refusals(value, retryable):
    with pytest.raises(EngineError) as error:
        output_image(value, fetch=_no_fetch, provider="P")
    assert (error.value.code, error.value.retryable) == (EngineErrorCode.ENGINE_ERROR, retryable)


def test_output_that_is_not_an_image_is_refused():
    with pytest.raises(EngineError):
        output_image("data:image/png;base64," + base64.b64encode(b"<svg/>").decode(), fetch=_no_fetch, provider="P")


def test_failed_download_keeps_the_fetchers_verdict():
    def fetch(url: str) -> bytes:
        raise OutputFetchError("HTTP 503", retryable=True)

    with pytest.raises(EngineError) as error:
        output_image("https://cdn.example/out.png", fetch=fetch, provider="P")
    assert error.value.retryable and "HTTP 503" in error.value.message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"person_field": "p"}', "needs garment_field"),
        ('{"person_field": "p", "garment_field": "g", "colour": "red"}', "unknown custom preset fields: colour"),
    ],
)
def test_custom_preset_errors(text, reason):
    with pytest.raises(ValueError, match=reason):
        preset_from_json(text)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(EngineError) as error:
        preset_get(name="ootd")
    assert "idm-vton" in error.value.message and "custom" in error.value.message


def _no_fetch(url: str) -> bytes:
    raise AssertionError("no download expected")
