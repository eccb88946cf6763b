"""The dashboard form for watermark settings and the preview request it sends while the merchant edits."""

from __future__ import annotations

from django import forms
from django.conf import settings

from tryon_project.images import NormalizedImage
from watermark.models import WatermarkSettings
from watermark.services import WatermarkSettingsError, watermark_logo_normalize

_LOGO_ACCEPT = "image/png,image/webp"


def _normalized_logo(upload) -> NormalizedImage | None:
    """The uploaded logo checked through the one image path; a refusal becomes a form error."""
    if not upload:
        return None
    if upload.size > settings.TRYON_MAX_FILE_BYTES:
        raise forms.ValidationError(f"The logo is larger than {settings.TRYON_MAX_FILE_BYTES} bytes.")
    try:
        return watermark_logo_normalize(data=upload.read())
    except WatermarkSettingsError as exc:
        raise forms.ValidationError(str(exc)) from exc


class WatermarkSettingsForm(forms.ModelForm):
    logo = forms.FileField(
        required=False,
        help_text="PNG or WebP with transparency, at least 64 px a side. Replaces the current logo.",
        widget=forms.FileInput(attrs={"accept": _LOGO_ACCEPT}),
    )
    remove_logo = forms.BooleanField(required=False, help_text="Remove the current logo (nothing is drawn).")

    class Meta:
        model = WatermarkSettings
        fields = ("account", "enabled", "position", "size_pct", "opacity_pct", "margin_pct")
        widgets = {
            "size_pct": forms.NumberInput(attrs={"min": 1, "max": 100, "step": 1}),
            "opacity_pct": forms.NumberInput(attrs={"min": 0, "max": 100, "step": 5}),
            "margin_pct": forms.NumberInput(attrs={"min": 0, "max": 25, "step": 1}),
        }

    def clean_logo(self) -> NormalizedImage | None:
        return _normalized_logo(self.cleaned_data.get("logo"))


class PreviewForm(forms.Form):
    """What the preview endpoint reads from the settings form the page posts to it."""

    enabled = forms.BooleanField(required=False)
    position = forms.ChoiceField(choices=WatermarkSettings._meta.get_field("position").choices)
    size_pct = forms.IntegerField(label="Size", min_value=1, max_value=100)
    opacity_pct = forms.IntegerField(label="Opacity", min_value=0, max_value=100)
    margin_pct = forms.IntegerField(label="Margin", min_value=0, max_value=25)
    logo = forms.FileField(label="Logo", required=False)
    remove_logo = forms.BooleanField(required=False)

    def clean_logo(self) -> NormalizedImage | None:
        return _normalized_logo(self.cleaned_data.get("logo"))
