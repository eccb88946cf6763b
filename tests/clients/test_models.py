"""The client's typed dictionaries against the published OpenAPI document (docs/openapi.json, itself checked
against the server by the suite): the same field names, required exactly where the schema requires them, and the
same enum values. A field added to an answer fails here until the client has it."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from django.conf import settings
from tryon_client import models

SCHEMAS = json.loads((Path(settings.BASE_DIR) / "docs" / "openapi.json").read_text())["components"]["schemas"]

ANSWERS = [
    (models.CreditBalance, "CreditBalance"),
    (models.ImageUpload, "ImageUploadResponse"),
    (models.TryOnAccepted, "TryOnAccepted"),
    (models.Generation, "Generation"),
    (models.ProductImage, "ProductImage"),
    (models.Product, "Product"),
    (models.ProductList, "ProductList"),
    (models.ProductStats, "ProductStats"),
    (models.ErrorBody, "Error"),
    (models.ErrorDetail, "ErrorDetail"),
]


@pytest.mark.parametrize(("model", "schema"), ANSWERS, ids=[name for _, name in ANSWERS])
def test_answers_have_the_schemas_fields_required_where_it_requires_them(model, schema):
    properties = set(SCHEMAS[schema]["properties"])
    required = set(SCHEMAS[schema].get("required", []))
    assert set(model.__required_keys__) == required
    assert set(model.__optional_keys__) == properties - required


# Request bodies: the 1.0/1.1 names (the schema also lists the later revisions' names, which the client does not
# build: `products`, `person`, `externalUserId`, `output`, and the nested `source`).
LATER_REVISIONS = {"products", "person", "externalUserId", "output", "source"}
REQUESTS = [
    (models.ProductItem, "ProductItemRequest"),
    (models.ProductUpsert, "ProductUpsertRequest"),
    (models.ProductImageInput, "ProductImageInputRequest"),
    (models.CustomerImage, "TryOnCustomerRequest"),
    (models.EngineOptions, "TryOnEngineOptionsRequest"),
    (models.TryOnRequest, "TryOnRequest"),
]


@pytest.mark.parametrize(("model", "schema"), REQUESTS, ids=[name for _, name in REQUESTS])
def test_request_bodies_use_the_schemas_names(model, schema):
    properties = set(SCHEMAS[schema]["properties"]) - LATER_REVISIONS
    assert set(model.__required_keys__) | set(model.__optional_keys__) == properties
    assert set(model.__required_keys__) == set(SCHEMAS[schema].get("required", []))


@pytest.mark.parametrize(
    ("literal", "schema"),
    [
        (models.GenerationStatus, "GenerationStatusEnum"),
        (models.GenerationErrorCode, "GenerationErrorCode"),
        (models.ProductCategory, "ProductCategoryEnum"),
        (models.RetentionDays, "RetentionDaysEnum"),
        (models.Quality, "QualityEnum"),
        (models.GarmentPhotoType, "GarmentPhotoTypeEnum"),
    ],
)
def test_enums_have_the_schemas_values(literal, schema):
    assert set(typing.get_args(literal)) == set(SCHEMAS[schema]["enum"])


def test_terminal_statuses_are_the_documented_ones():
    assert {"COMPLETED", "FAILED"} == models.TERMINAL_STATUSES
