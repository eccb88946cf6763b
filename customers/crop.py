"""The person-aware 4:5 crop used for customer photos, behind one small interface so it can be swapped.

A downward call: the crop lives in the framework-free `engines` package (`vision/crop.py`), which sits below
`customers` in the layering (docs/architecture.md)."""

from __future__ import annotations

from PIL import Image

from vision.crop import person_crop_box


def person_crop(image: Image.Image) -> tuple[int, int, int, int]:
    return person_crop_box(image=image)
