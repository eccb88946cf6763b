"""The person-aware 4:5 crop used for customer photos, behind one small interface so it can be swapped.

This is the one deliberate upward use in the layering (design.md §2): the crop is a public function of the
engines package, which imports nothing from the ORM."""

from __future__ import annotations

from PIL import Image


def person_crop(image: Image.Image) -> tuple[int, int, int, int]:
    from engines.crop import person_crop_box

    return person_crop_box(image=image)
