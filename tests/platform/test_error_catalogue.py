"""One failure-code catalogue: the API's enums are the only list; the engines' and products' codes are subsets of it
and travel as members; the image path's domain error is mapped to a response in one place."""

from __future__ import annotations

import ast
import pathlib

import pytest

from engines.base import EngineError, EngineErrorCode
from generations.services.pipeline import GenerationFailure
from products.errors import PRODUCT_IMAGE_CODES, ProductImageUnavailable
from tryon_project.api.errors import ErrorCode, GenerationErrorCode
from tryon_project.api.exception_handler import to_api_error
from tryon_project.images import ImageRejected

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP_PACKAGES = ("tryon_project", "accounts", "customers", "products", "watermark", "engines", "generations", "webhooks")


def test_engine_codes_are_a_subset_of_the_generation_catalogue():
    assert {code.name for code in EngineErrorCode} <= {code.name for code in GenerationErrorCode}
    # Each value is its name, so a member is its own wire spelling.
    assert all(code.value == code.name for code in EngineErrorCode)


@pytest.mark.parametrize("code", list(EngineErrorCode))
def test_every_engine_failure_maps_to_a_catalogue_member(code):
    failure = GenerationFailure.from_engine(EngineError(code, "why", retryable=True))
    assert failure.code is GenerationErrorCode[code.name]
    assert (failure.message, failure.retryable) == ("why", True)


def test_product_image_codes_are_catalogue_members():
    assert {
        GenerationErrorCode.PRODUCT_IMAGE_FETCH_FAILED,
        GenerationErrorCode.PRODUCT_IMAGE_INVALID,
    } == PRODUCT_IMAGE_CODES
    with pytest.raises(ValueError, match="not a product image failure"):
        ProductImageUnavailable(code=GenerationErrorCode.ENGINE_ERROR, message="x")


def test_image_rejection_becomes_its_catalogue_error_once():
    error = to_api_error(ImageRejected(code=ErrorCode.INVALID_IMAGE, message="not an image"))
    assert (error.code, error.message, error.http_status) == (ErrorCode.INVALID_IMAGE, "not an image", 400)
    error = to_api_error(ImageRejected(code=ErrorCode.PAYLOAD_TOO_LARGE, message="too big"))
    assert (error.code, error.http_status) == (ErrorCode.PAYLOAD_TOO_LARGE, 413)


def _code_literals() -> list[str]:
    """String literals equal to a failure code's name, outside the catalogue and the migrations."""
    names = {code.name for code in GenerationErrorCode}
    found = []
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in ("tryon_project/api/errors.py", "engines/base.py"):
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=relative)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                    found.append(f"{relative}:{node.lineno} {node.value}")
    return found


def test_no_failure_code_is_spelled_as_a_string_outside_the_catalogue():
    assert _code_literals() == []
