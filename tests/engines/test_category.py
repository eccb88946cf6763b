from __future__ import annotations

import pytest

from engines.base import Category, EngineError, EngineErrorCode
from engines.local.category import category_from_text


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Classic cotton T-shirt", Category.TOPS),
        ("Short-sleeve tee", Category.TOPS),
        ("Oversized hoodie", Category.TOPS),
        ("Silk blouse", Category.TOPS),
        ("Pull en laine mérinos", Category.TOPS),
        ("Chemise en jean", Category.TOPS),
        ("Débardeur rayé", Category.TOPS),
        ("Haut fluide", Category.TOPS),
        ("Slim-fit jeans", Category.BOTTOMS),
        ("Chino trousers", Category.BOTTOMS),
        ("Pantalon large", Category.BOTTOMS),
        ("Jupe plissée midi", Category.BOTTOMS),
        ("Short en jean", Category.BOTTOMS),
        ("Summer dress", Category.DRESSES),
        ("Evening gown", Category.DRESSES),
        ("Robe longue fleurie", Category.DRESSES),
        ("Robe chemise", Category.DRESSES),
        ("Shirt dress", Category.DRESSES),
        ("Denim jacket", Category.OUTERWEAR),
        ("Veste en jean", Category.OUTERWEAR),
        ("Manteau long en laine", Category.OUTERWEAR),
        ("Blazer croisé", Category.OUTERWEAR),
        ("Doudoune légère", Category.OUTERWEAR),
    ],
)
def test_category_from_title(title: str, expected: Category) -> None:
    assert category_from_text(title=title, description="") == expected


@pytest.mark.parametrize(
    "title",
    [
        "Running shoes",
        "Leather sneakers",
        "Aviator sunglasses",
        "Reading glasses",
        "Canvas tote bag",
        "Wool hat",
        "Gold necklace",
        "Silver earrings",
        "Chaussures de ville",
        "Lunettes de soleil",
        "Sac à main",
        "Sac à dos",
        "Chapeau de paille",
        "Bijoux fantaisie",
        "Boucles d'oreilles",
        "Top quality shoes",
    ],
)
def test_accessories_are_unsupported(title: str) -> None:
    with pytest.raises(EngineError) as caught:
        category_from_text(title=title, description="")
    assert caught.value.code == EngineErrorCode.UNSUPPORTED_PRODUCT
    assert caught.value.retryable is False


def test_a_garment_with_an_accessory_is_the_garment() -> None:
    assert category_from_text(title="Robe + sac assorti", description="") == Category.DRESSES
    assert category_from_text(title="Pantalon avec ceinture", description="") == Category.BOTTOMS


def test_title_wins_over_description() -> None:
    assert category_from_text(title="Linen trousers", description="Goes well with our sandals") == Category.BOTTOMS


def test_description_is_read_when_the_title_says_nothing() -> None:
    assert category_from_text(title="Modèle Alice", description="Une robe légère pour l'été") == Category.DRESSES
    with pytest.raises(EngineError):
        category_from_text(title="Modèle Alice", description="Des lunettes rondes")


def test_nothing_recognised_is_none() -> None:
    assert category_from_text(title="Summer collection #12", description="") is None
    assert category_from_text(title="", description="") is None
