"""What kind of garment a product is, from the request's category or its title and description.

Keyword lists cover English and French first (the API's two documented languages), with the common German,
Spanish, Italian and Dutch words as well. Text is lower-cased and stripped of accents, so "Débardeur" and
"debardeur" match alike. A title wins over a description; within one text a wearable garment wins over an
accessory ("Robe + sac assorti" is a dress), and among garments the more specific kind wins ("shirt dress" is
a dress, "veste en jean" a jacket). "top" and "haut" are weak words ("top quality shoes", "talons hauts"): they
count only when nothing else matched.
"""

from __future__ import annotations

import re
import unicodedata

from engines.base import Category, EngineError, EngineErrorCode

UNSUPPORTED = "unsupported"

_WORDS: dict[str, tuple[str, ...]] = {
    Category.DRESSES: (
        "dress",
        "dresses",
        "gown",
        "sundress",
        "jumpsuit",
        "playsuit",
        "romper",
        "robe",
        "robes",
        "combinaison",
        "kleid",
        "kleider",
        "vestido",
        "vestidos",
        "vestito",
        "abito",
        "jurk",
    ),
    Category.OUTERWEAR: (
        "jacket",
        "coat",
        "overcoat",
        "raincoat",
        "blazer",
        "parka",
        "anorak",
        "windbreaker",
        "trench",
        "puffer",
        "bomber",
        "cardigan",
        "gilet",
        "veste",
        "vestes",
        "manteau",
        "manteaux",
        "blouson",
        "doudoune",
        "impermeable",
        "caban",
        "jacke",
        "mantel",
        "chaqueta",
        "abrigo",
        "cazadora",
        "giacca",
        "giubbotto",
        "cappotto",
        "jas",
    ),
    Category.BOTTOMS: (
        "pants",
        "trousers",
        "jeans",
        "jean",
        "shorts",
        "short",
        "skirt",
        "skirts",
        "leggings",
        "legging",
        "joggers",
        "chinos",
        "culottes",
        "slacks",
        "sweatpants",
        "pantalon",
        "pantalons",
        "jupe",
        "jupes",
        "bermuda",
        "bermudas",
        "jogging",
        "corsaire",
        "pantalones",
        "falda",
        "vaqueros",
        "pantaloni",
        "gonna",
        "broek",
        "rok",
    ),
    Category.TOPS: (
        "t shirt",
        "t shirts",
        "tshirt",
        "tshirts",
        "tee",
        "tees",
        "tee shirt",
        "shirt",
        "shirts",
        "blouse",
        "blouses",
        "sweater",
        "sweaters",
        "jumper",
        "pullover",
        "hoodie",
        "hoodies",
        "sweatshirt",
        "polo",
        "tank",
        "camisole",
        "tunic",
        "henley",
        "jersey",
        "crop top",
        "chemise",
        "chemises",
        "chemisier",
        "pull",
        "pulls",
        "debardeur",
        "sweat",
        "tunique",
        "mariniere",
        "hemd",
        "bluse",
        "camiseta",
        "camisa",
        "blusa",
        "sudadera",
        "maglietta",
        "camicia",
        "maglione",
        "trui",
    ),
    UNSUPPORTED: (
        "shoe",
        "shoes",
        "sneaker",
        "sneakers",
        "trainers",
        "boot",
        "boots",
        "sandal",
        "sandals",
        "heels",
        "loafers",
        "slippers",
        "eyewear",
        "glasses",
        "sunglasses",
        "spectacles",
        "goggles",
        "bag",
        "bags",
        "handbag",
        "backpack",
        "purse",
        "tote",
        "wallet",
        "clutch",
        "hat",
        "hats",
        "cap",
        "caps",
        "beanie",
        "beret",
        "jewellery",
        "jewelry",
        "necklace",
        "ring",
        "rings",
        "earring",
        "earrings",
        "bracelet",
        "watch",
        "watches",
        "belt",
        "scarf",
        "gloves",
        "socks",
        "tie",
        "chaussure",
        "chaussures",
        "basket",
        "baskets",
        "botte",
        "bottes",
        "bottine",
        "bottines",
        "sandale",
        "sandales",
        "escarpin",
        "escarpins",
        "mocassins",
        "chaussons",
        "lunettes",
        "sac",
        "sacs",
        "sacoche",
        "pochette",
        "portefeuille",
        "chapeau",
        "chapeaux",
        "casquette",
        "bonnet",
        "bijou",
        "bijoux",
        "collier",
        "bague",
        "bagues",
        "boucles d oreilles",
        "montre",
        "ceinture",
        "echarpe",
        "gants",
        "chaussettes",
        "cravate",
        "schuhe",
        "brille",
        "tasche",
        "hut",
        "mutze",
        "schmuck",
        "zapatos",
        "zapatillas",
        "gafas",
        "bolso",
        "sombrero",
        "joyas",
        "scarpe",
        "occhiali",
        "borsa",
        "cappello",
        "gioielli",
        "schoenen",
        "bril",
        "tas",
    ),
}
_WEAK_TOPS = ("top", "tops", "haut", "hauts")
# More specific first: a shirt dress is a dress, a denim jacket a jacket, jeans shorts are bottoms.
_PRECEDENCE: tuple[str, ...] = (Category.DRESSES, Category.OUTERWEAR, Category.BOTTOMS, Category.TOPS)


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")


# Phrases where a garment word only describes another garment: "short sleeve tee", "chemise en jean".
_NOT_A_GARMENT = re.compile(r"(?<![a-z0-9])(?:short sleeves?d?|(?:en|de) jeans?)(?![a-z0-9])")
_PATTERNS = {kind: _pattern(words) for kind, words in _WORDS.items()}
_WEAK_PATTERN = _pattern(_WEAK_TOPS)


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Hyphens and apostrophes separate words the way spaces do: "t-shirt" == "t shirt", "d'oreilles".
    words = re.sub(r"[^a-z0-9]+", " ", plain).strip()
    return _NOT_A_GARMENT.sub(" ", words)


def _kind_of(text: str) -> str | None:
    normalised = _normalise(text)
    if not normalised:
        return None
    found = {kind for kind, pattern in _PATTERNS.items() if pattern.search(normalised)}
    for kind in _PRECEDENCE:
        if kind in found:
            return kind
    if UNSUPPORTED in found:
        return UNSUPPORTED
    if _WEAK_PATTERN.search(normalised):
        return Category.TOPS
    return None


def category_from_text(*, title: str, description: str) -> Category | None:
    """The garment kind the text names, None when it names none; raises for items no garment warp can dress."""
    for text in (title, description):
        kind = _kind_of(text)
        if kind == UNSUPPORTED:
            raise EngineError(
                EngineErrorCode.UNSUPPORTED_PRODUCT,
                "The local engine dresses tops, bottoms, dresses and outerwear; this product looks like an accessory.",
                retryable=False,
            )
        if kind is not None:
            return Category(kind)
    return None
