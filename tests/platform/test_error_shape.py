import json

import pytest
from django.test import override_settings

pytestmark = pytest.mark.urls("tests.platform.error_views")


def _assert_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["code"] == code
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert "detail" not in body
    return body


def test_unknown_route_is_json_404(anon, db):
    body = _assert_shape(anon.get("/tryon/v1/no/such/route"), 404, "NOT_FOUND")
    assert set(body) == {"code", "message", "status"}


def test_unknown_route_with_key_is_json_404(api):
    _assert_shape(api.get("/tryon/v1/nothing-here"), 404, "NOT_FOUND")


@override_settings(DEBUG=True)
def test_unknown_route_is_json_even_in_debug(anon, db):
    _assert_shape(anon.get("/tryon/v1/nope"), 404, "NOT_FOUND")


def test_wrong_method_is_405(api):
    response = api.post("/tryon/v1/account/credits", data={}, content_type="application/json")
    _assert_shape(response, 405, "METHOD_NOT_ALLOWED")


def test_malformed_json_is_400(api):
    response = api.post("/tryon/v1/_test/echo", data="{not json", content_type="application/json")
    _assert_shape(response, 400, "MALFORMED_REQUEST")


def test_unsupported_media_type_is_415(api):
    response = api.post("/tryon/v1/_test/echo", data="<x/>", content_type="application/xml")
    _assert_shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_validation_details_have_dot_paths(api):
    response = api.post_json("/tryon/v1/_test/echo", {"name": "toolongname", "images": [{"url": "ok"}, {}]})
    body = _assert_shape(response, 400, "VALIDATION_FAILED")
    paths = sorted(d["path"] for d in body["details"])
    assert paths == ["images.0.url", "images.1.url", "name"]
    assert all(d["message"] for d in body["details"])


@override_settings(TRYON_MAX_REQUEST_BYTES=1000)
def test_request_over_total_limit_is_413(api):
    response = api.post_json("/tryon/v1/_test/echo", {"name": "x" * 2000, "images": []})
    _assert_shape(response, 413, "PAYLOAD_TOO_LARGE")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_body_over_django_limit_is_413(api):
    response = api.post_json("/tryon/v1/_test/echo", {"name": "x" * 200, "images": []})
    _assert_shape(response, 413, "PAYLOAD_TOO_LARGE")


def test_unhandled_exception_is_500_without_leak(api, caplog):
    response = api.get("/tryon/v1/_test/boom", HTTP_X_REQUEST_ID="req-boom-1")
    body = _assert_shape(response, 500, "INTERNAL_ERROR")
    assert "passwd" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body == {"code": "INTERNAL_ERROR", "message": "An internal error occurred.", "status": 500}
    assert response["X-Request-ID"] == "req-boom-1"
    assert any(getattr(r, "request_id", None) == "req-boom-1" for r in caplog.records)


def test_request_id_echoed_or_generated(api):
    assert api.get("/tryon/v1/account/credits", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    generated = api.get("/tryon/v1/account/credits")["X-Request-ID"]
    assert len(generated) == 32
    # Unsafe incoming ids are replaced, never reflected.
    assert api.get("/tryon/v1/account/credits", HTTP_X_REQUEST_ID="a b\r\n")["X-Request-ID"] != "a b\r\n"


def test_request_id_on_error_and_non_api_responses(anon, db):
    assert anon.get("/tryon/v1/account/credits")["X-Request-ID"]
    assert anon.get("/healthz")["X-Request-ID"]


def test_401_has_error_shape(anon, db):
    _assert_shape(anon.get("/tryon/v1/account/credits"), 401, "MISSING_API_KEY")


def test_database_outage_is_503_json(api, monkeypatch):
    from django.db import OperationalError

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("accounts.auth.api_key_resolve", down)
    response = api.get("/tryon/v1/account/credits")
    body = _assert_shape(response, 503, "SERVICE_UNAVAILABLE")
    assert "refused" not in body["message"]
    assert response["Retry-After"] == "5"
