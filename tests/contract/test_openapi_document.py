"""The published OpenAPI document is one a client can trust: every request example in it is accepted by the server
as it stands, error responses list their real codes and status, the shared headers are documented, and the copy
in docs/openapi.json is the served document."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from customers.models import CustomerImage
from generations.models import Generation
from products.models import Product
from tests.generations.helpers import image_server
from tests.images import jpeg_bytes
from tryon_project.api.errors import ErrorCode, GenerationErrorCode

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
# The examples' URLs stand for a client's own photos; here they are served by a local image server instead.
EXAMPLE_HOST = "https://cdn.example.com"
# The answer each operation documents for a request it accepts (`/try-on/sync` answers 202 when the wait is over
# before the generation ends, which it always is here: no worker runs).
ACCEPTED = {
    ("post", "/tryon/v1/try-on"): 202,
    ("post", "/tryon/v1/try-on/sync"): 202,
    ("post", "/tryon/v1/products"): 201,
    ("post", "/tryon/v1/images/upload"): 201,
}
EXAMPLES = {
    ("post", "/tryon/v1/try-on"): {"V1.1JSON", "V1.4JSON", "V1.1Multipart", "V1.4Multipart"},
    ("post", "/tryon/v1/try-on/sync"): {"V1.1JSON", "V1.4JSON", "V1.1Multipart", "V1.4Multipart"},
    ("post", "/tryon/v1/products"): {"CreateJSON", "CreateMultipart"},
    ("post", "/tryon/v1/images/upload"): {"V1.1Multipart", "V1.4Multipart"},
}


def _document(client) -> dict:
    response = client.get("/tryon/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _request_examples(document: dict) -> list[tuple[str, str, str, str, dict, dict]]:
    found = []
    for method, path, operation in _operations(document):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            for name, example in content.get("examples", {}).items():
                found.append((method, path, media_type, name, example["value"], content["schema"]))
    return found


def _component(document: dict, ref: str) -> dict:
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _localised(value, base: str):
    """The example with its placeholder host replaced by the local image server's."""
    return json.loads(json.dumps(value).replace(EXAMPLE_HOST, base))


@pytest.fixture
def photos(settings):
    with image_server() as (base, handler):
        settings.TRYON_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]
        settings.TRYON_FETCH_ALLOWED_PORTS = [int(base.rsplit(":", 1)[1])]
        settings.TRYON_SYNC_WAIT_SECONDS = 0
        yield base, handler


def test_the_document_holds_the_expected_examples(anon, db):
    document = _document(anon)
    listed: dict = {}
    for method, path, _media, name, _value, _schema in _request_examples(document):
        listed.setdefault((method, path), set()).add(name)
    assert listed == EXAMPLES


def _send(api, *, path: str, media_type: str, value: dict, schema: dict):
    if media_type == "application/json":
        return api.post_json(path, value)
    form: dict = {}
    for key, field_value in value.items():
        if key == "data":
            form[key] = json.dumps(field_value)
        elif isinstance(field_value, bool):
            form[key] = "true" if field_value else "false"
        else:
            form[key] = str(field_value)
    # Every file part the schema declares (the ones the example's fileKeys name, or the upload's `file`).
    for name, prop in schema["properties"].items():
        if prop.get("format") == "binary":
            part = io.BytesIO(jpeg_bytes(width=600, height=750))
            part.name = f"{name}.jpg"
            form[name] = part
    return api.post(path, form)


@pytest.mark.parametrize(
    ("operation", "name"),
    sorted((operation, name) for operation, names in EXAMPLES.items() for name in names),
)
def test_every_request_example_is_accepted_as_documented(api, anon, account, photos, operation, name):
    base, handler = photos
    document = _document(anon)
    (method, path, media_type, _name, value, schema), *more = [
        found for found in _request_examples(document) if (found[0], found[1]) == operation and found[3] == name
    ]
    assert more == []
    if "$ref" in schema:
        schema = _component(document, schema["$ref"])
    response = _send(api, path=path, media_type=media_type, value=_localised(value, base), schema=schema)
    expected = ACCEPTED[operation]
    assert response.status_code == expected, response.content
    assert str(expected) in document["paths"][path][method]["responses"]
    body = response.json()
    if path.startswith("/tryon/v1/try-on"):
        generation = Generation.objects.get(id=body["generationId"])
        assert (body["status"], body["productExternalId"]) == ("PENDING", "tee-blue")
        assert (generation.account_id, generation.customer_id) == (account.id, "shopper-42")
        assert Product.objects.get(account=account, external_id="tee-blue").title == "Blue T-shirt"
        # The URL examples had the person photo downloaded when accepted (the garment is the worker's to fetch);
        # the multipart ones sent both.
        assert handler.hits == ([] if media_type.startswith("multipart/") else ["/person.jpg"])
    elif path == "/tryon/v1/products":
        assert body["externalId"] in {"tee-blue", "tee-red"}
        assert Generation.objects.count() == 0
    else:
        image = CustomerImage.objects.get(id=body["imageId"])
        assert (image.customer_id, image.retention_days) == ("shopper-42", 7)


def test_mixed_shapes_are_not_offered_as_a_body(anon, db):
    """No example mixes two revisions of one field (they are refused: docs/compatibility.md)."""
    mixed = (("product", "products"), ("customer", "person"), ("customerId", "externalUserId"))
    for _method, path, _media, name, value, _schema in _request_examples(_document(anon)):
        body = value.get("data", value)
        for old, new in mixed:
            assert not (old in body and new in body), (path, name)


def test_multipart_operations_declare_their_file_parts(anon, db):
    document = _document(anon)
    parts = {}
    for method, path, operation in _operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content:
            schema = content["multipart/form-data"]["schema"]
            if "$ref" in schema:
                schema = _component(document, schema["$ref"])
            parts[(method, path)] = {
                name for name, prop in schema["properties"].items() if prop.get("format") == "binary"
            }
    assert parts == {
        ("post", "/tryon/v1/try-on"): {"garment", "person"},
        ("post", "/tryon/v1/try-on/sync"): {"garment", "person"},
        ("post", "/tryon/v1/products"): {"garment"},
        ("post", "/tryon/v1/images/upload"): {"file"},
    }
    # The docs page's form is prefilled with a body that names exactly those parts.
    tryon = document["paths"]["/tryon/v1/try-on"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert tryon["schema"]["properties"]["data"]["example"] == {
        "product": {"externalId": "tee-blue", "title": "Blue T-shirt", "images": [{"fileKey": "garment"}]},
        "customer": {"fileKey": "person"},
        "customerId": "shopper-42",
    }


def test_each_error_response_lists_its_own_codes_and_status(anon, db):
    document = _document(anon)
    for _method, path, operation in _operations(document):
        for status_text, response in operation["responses"].items():
            status = int(status_text)
            if status < 400:
                continue
            content = response["content"]["application/json"]
            base, narrowing = content["schema"]["allOf"]
            assert base == {"$ref": "#/components/schemas/Error"}
            assert narrowing["properties"]["status"]["enum"] == [status]
            codes = narrowing["properties"]["code"]["enum"]
            assert codes and all(ErrorCode[code].http_status == status for code in codes), (path, status)
            assert {example["value"]["code"] for example in content["examples"].values()} == set(codes)
            assert {example["value"]["status"] for example in content["examples"].values()} == {status}
    credits = document["paths"]["/tryon/v1/account/credits"]["get"]["responses"]
    assert sorted(credits) == ["200", "400", "401", "429", "500", "503"]
    assert credits["400"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"] == [
        "MALFORMED_REQUEST"
    ]
    tryon = document["paths"]["/tryon/v1/try-on"]["post"]["responses"]
    assert tryon["402"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"] == [
        "INSUFFICIENT_CREDITS"
    ]
    assert tryon["409"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"] == [
        "IDEMPOTENCY_KEY_IN_USE"
    ]


def test_headers_are_documented(anon, db):
    document = _document(anon)
    assert set(document["components"]["headers"]) == {
        "X-Request-ID",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "Retry-After",
        "Idempotent-Replayed",
    }
    idempotent = set()
    for method, path, operation in _operations(document):
        names = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"}
        assert "X-Request-ID" in names
        if "Idempotency-Key" in names:
            idempotent.add((method, path))
        for status, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], (path, status)
            if status == "429":
                assert response["headers"]["Retry-After"]["required"] is True
            if status.startswith("2") and (method, path) in idempotent:
                assert "Idempotent-Replayed" in response["headers"]
        if path != "/tryon/v1/openapi.json":
            assert "X-RateLimit-Remaining" in operation["responses"]["429"]["headers"]
    assert idempotent == set(ACCEPTED)


def test_names_enums_and_version(anon, db):
    document = _document(anon)
    names = set(document["components"]["schemas"])
    assert not [name for name in names if name.endswith("RequestRequest")]
    assert {"TryOnRequest", "ProductItemRequest", "ProductUpsertRequest", "ImageUploadRequest", "Error"} <= names
    generation = document["components"]["schemas"]["Generation"]
    assert generation["properties"]["errorCode"] == {
        "allOf": [{"$ref": "#/components/schemas/GenerationErrorCode"}],
        "description": generation["properties"]["errorCode"]["description"],
    }
    assert document["components"]["schemas"]["GenerationErrorCode"]["enum"] == [c.name for c in GenerationErrorCode]
    # One product item: the try-on body's items are the catalog's, `validForDays` included.
    tryon = document["components"]["schemas"]["TryOnRequest"]["properties"]
    assert tryon["product"]["allOf"] == [{"$ref": "#/components/schemas/ProductItemRequest"}]
    assert tryon["products"]["items"] == {"$ref": "#/components/schemas/ProductItemRequest"}
    # A 1.4 body names `products`, not `product`: the document may demand neither, or it would refuse that shape.
    assert "required" not in document["components"]["schemas"]["TryOnRequest"]
    assert "validForDays" in document["components"]["schemas"]["ProductItemRequest"]["properties"]
    assert document["info"]["version"] == "0.1.0"
    assert "reference revision 1.1.0" in document["info"]["description"]
    assert "quickstart" in document["info"]["description"].lower()


def test_published_copy_is_current(anon, db):
    """docs/openapi.json is what the server serves; `make schema` regenerates it."""
    assert PUBLISHED.exists(), "run `make schema`"
    assert json.loads(PUBLISHED.read_text()) == _document(anon), "docs/openapi.json is stale: run `make schema`"


def test_the_docs_page_links_to_the_quickstart_which_is_served(anon, db):
    document = _document(anon)
    assert "[quickstart](/tryon/v1/docs/quickstart)" in document["info"]["description"]
    response = anon.get("/tryon/v1/docs/quickstart")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (PUBLISHED.parent / "quickstart.md").read_text(encoding="utf-8")
    refused = anon.post("/tryon/v1/docs/quickstart")
    assert (refused.status_code, refused.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
