"""The access log: one line per request, ids redacted, the final status, the request id (docs/deployment.md)."""

from __future__ import annotations

import logging
import re

import pytest

from generations.models import Generation
from tryon_project.api.access_log import path_redact
from tryon_project.api.request_id import RequestIdLogFilter

LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms$")


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.INFO, logger="tryon.access")
    # As the configured console handler does: the filter stamps the request id while the request is running.
    caplog.handler.addFilter(RequestIdLogFilter())

    def lines() -> list[logging.LogRecord]:
        return [record for record in caplog.records if record.name == "tryon.access"]

    return lines


def test_a_poll_is_one_line_with_the_generation_id_redacted(api, account, access):
    generation = Generation.objects.create(account=account, product_external_id="tee", person_image_key="p/x.jpg")
    response = api.get(f"/tryon/v1/generations/{generation.id}?secret=1", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 200
    records = access()
    assert len(records) == 1
    message = records[0].getMessage()
    match = LINE.match(message)
    assert match, message
    assert match["method"] == "GET" and match["status"] == "200"
    assert match["path"] == "/tryon/v1/generations/{generation_id}"
    assert generation.id not in message and "secret" not in message
    assert records[0].request_id == "req-42"  # printed in brackets by the log format


def test_the_status_logged_is_the_one_the_client_got(anon, db, access):
    response = anon.get("/tryon/v1/account/credits")
    assert response.status_code == 401
    assert LINE.match(access()[0].getMessage())["status"] == "401"


def test_product_and_customer_ids_never_reach_the_log(api, access):
    api.get("/tryon/v1/products/alice-shirt/stats")
    api.delete("/tryon/v1/customers/shopper-alice")
    messages = [record.getMessage() for record in access()]
    assert len(messages) == 2
    assert all("alice" not in message for message in messages)
    assert messages[0].startswith("GET /tryon/v1/products/{external_id}/stats 404 ")


def test_access_log_can_be_turned_off(api, access, settings):
    from tryon_project.api.access_log import AccessLogMiddleware

    settings.TRYON_ACCESS_LOG = False
    middleware = AccessLogMiddleware(lambda request: None)
    assert middleware.enabled is False


@pytest.mark.parametrize(
    ("path", "captured", "expected"),
    [
        ("/tryon/v1/generations/gen_abc", {"generation_id": "gen_abc"}, "/tryon/v1/generations/{generation_id}"),
        ("/tryon/v1/products/x/stats/", {"external_id": "x"}, "/tryon/v1/products/{external_id}/stats/"),
        ("/tryon/v1/products/x/unknown", None, "/tryon/v1/products/*/*"),
        ("/tryon/v1/gen_abc", None, "/tryon/v1/*"),
        ("/tryon/v1/customers/Alice9", None, "/tryon/v1/customers/*"),
        ("/readyz", {}, "/readyz"),
        ("/", None, "/"),
    ],
)
def test_path_redact(path, captured, expected):
    assert path_redact(path=path, captured=captured) == expected
