"""Django's own request log (`django.request`, errors only) names the request's path: it is logged as the route,
like the access log, so a 5xx on a customer's path never writes the customer id."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError

import customers.apis

CUSTOMER_ID = "shopper-secret-4242"


@pytest.fixture
def request_log(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")

    def messages() -> list[str]:
        return [record.getMessage() for record in caplog.records if record.name == "django.request"]

    return messages


def _erase_fails(monkeypatch, exc: Exception) -> None:
    def erase(**kwargs):
        raise exc

    monkeypatch.setattr(customers.apis, "customer_erase", erase)


def test_a_crash_on_a_customer_path_logs_the_route(api, monkeypatch, request_log):
    _erase_fails(monkeypatch, RuntimeError("boom"))
    response = api.delete(f"/tryon/v1/customers/{CUSTOMER_ID}")
    assert response.status_code == 500
    assert request_log() == ["Internal Server Error: /tryon/v1/customers/{customer_id}"]


def test_a_database_outage_on_a_customer_path_logs_the_route(api, monkeypatch, request_log):
    _erase_fails(monkeypatch, OperationalError("connection refused"))
    response = api.delete(f"/tryon/v1/customers/{CUSTOMER_ID}/")
    assert response.status_code == 503
    assert request_log() == ["Service Unavailable: /tryon/v1/customers/{customer_id}/"]


def test_an_unmatched_path_keeps_only_its_route_words():
    from tryon_project.api import access_log

    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "%s: %s", ("Not Found", "/tryon/v1/x/shopper-9/photo"), None
    )
    assert access_log.RequestPathRedactFilter().filter(record) is True
    assert record.getMessage() == "Not Found: /tryon/v1/x/*/*"
