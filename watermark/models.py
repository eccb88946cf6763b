from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

# Bounds shared by the model, the service and the dashboard form.
SIZE_PCT_RANGE = (1, 100)
OPACITY_PCT_RANGE = (0, 100)
MARGIN_PCT_RANGE = (0, 25)


class WatermarkPosition(models.TextChoices):
    TOP_LEFT = "top-left", "Top left"
    TOP_RIGHT = "top-right", "Top right"
    BOTTOM_LEFT = "bottom-left", "Bottom left"
    BOTTOM_RIGHT = "bottom-right", "Bottom right"
    CENTER = "center", "Centre"


class WatermarkSettings(models.Model):
    """An account's watermark: a logo (RGBA PNG in storage) and where and how strongly it is drawn on results."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="watermark")
    enabled = models.BooleanField(default=True, help_text="Draw the logo on results (calls may still opt out).")
    # Empty: no logo, so nothing is drawn whatever `enabled` says.
    logo_key = models.CharField(max_length=300, blank=True, default="")
    logo_width = models.PositiveIntegerField(null=True, blank=True)
    logo_height = models.PositiveIntegerField(null=True, blank=True)
    position = models.CharField(
        max_length=12, choices=WatermarkPosition.choices, default=WatermarkPosition.BOTTOM_RIGHT
    )
    size_pct = models.PositiveSmallIntegerField(
        "size (% of result width)",
        default=20,
        validators=[MinValueValidator(SIZE_PCT_RANGE[0]), MaxValueValidator(SIZE_PCT_RANGE[1])],
    )
    opacity_pct = models.PositiveSmallIntegerField(
        "opacity (%)",
        default=80,
        validators=[MinValueValidator(OPACITY_PCT_RANGE[0]), MaxValueValidator(OPACITY_PCT_RANGE[1])],
    )
    margin_pct = models.PositiveSmallIntegerField(
        "margin (% of result width)",
        default=3,
        validators=[MinValueValidator(MARGIN_PCT_RANGE[0]), MaxValueValidator(MARGIN_PCT_RANGE[1])],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "watermark settings"
        verbose_name_plural = "watermark settings"
        constraints = [
            models.CheckConstraint(condition=Q(size_pct__gte=1, size_pct__lte=100), name="watermark_size_pct"),
            models.CheckConstraint(condition=Q(opacity_pct__lte=100), name="watermark_opacity_pct"),
            models.CheckConstraint(condition=Q(margin_pct__lte=25), name="watermark_margin_pct"),
        ]

    def __str__(self) -> str:
        return f"Watermark of {self.account}"

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_key)
