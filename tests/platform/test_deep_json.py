"""Deeply nested JSON is a 400 MALFORMED_REQUEST on every write route that parses JSON, never a RecursionError."""

import io
import json

import pytest

from generations.models import Generation
from products.models import Product
from tryon_project.api.json_guard import MAX_JSON_DEPTH, JsonTooDeep, json_depth, json_loads_bounded

DEEP = "[" * 5000 + "]" * 5000
DEEP_IN_OBJECT = '{"product": {"externalId": "x", "extra": ' + DEEP + "}}"


def _assert_malformed(response) -> None:
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "MALFORMED_REQUEST"


@pytest.mark.parametrize("path", ["/tryon/v1/products", "/tryon/v1/try-on", "/tryon/v1/try-on/sync"])
@pytest.mark.parametrize("body", [DEEP, DEEP_IN_OBJECT], ids=["bare", "nested"])
def test_deep_json_body_is_malformed(api, account, path, body):
    _assert_malformed(api.post(path, data=body, content_type="application/json"))
    assert Product.objects.count() == 0
    assert Generation.objects.count() == 0
    account.refresh_from_db()
    assert account.credit_balance == 10


@pytest.mark.parametrize("path", ["/tryon/v1/products", "/tryon/v1/try-on"])
def test_deep_json_in_multipart_data_is_malformed(api, path):
    part = io.BytesIO(b"\xff\xd8")
    part.name = "p.jpg"
    _assert_malformed(api.post(path, {"data": DEEP_IN_OBJECT, "img": part}))
    assert Product.objects.count() == 0
    assert Generation.objects.count() == 0


def test_the_default_parser_is_the_bounded_one(settings):
    # Routes that keep DRF's default parsers get the bounded one from settings.
    assert settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"][0] == "tryon_project.api.json_guard.BoundedJSONParser"


def test_depth_is_measured_outside_strings():
    assert json_depth('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == 1
    assert json_depth('{"a": "\\"[[[", "b": [[1]]}') == 3
    assert json_depth("42") == 0
    assert json_loads_bounded("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(JsonTooDeep):
        json_loads_bounded("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    # Strings full of brackets are not nesting: a normal document with a long bracket string still parses.
    assert json_loads_bounded(json.dumps({"title": "[" * 10_000})) == {"title": "[" * 10_000}
