"""Form fields every app's evidence forms share."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db import models
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from .money import amount_parse

EVIDENCE_TYPES = "image/jpeg,image/png,image/webp,video/mp4,video/webm,application/pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by content later, in the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": EVIDENCE_TYPES}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def files_help_text() -> str:
    return _(
        "До %(count)d файлов: фото JPEG, PNG или WebP до %(image)d МБ, видео MP4 или WebM до %(video)d МБ, PDF до "
        "%(pdf)d МБ. Скриншоты переписки и трека, фото, видео распаковки."
    ) % {
        "count": settings.UPLOAD_MAX_FILES,
        "image": settings.UPLOAD_IMAGE_MAX_BYTES // (1024 * 1024),
        "video": settings.UPLOAD_VIDEO_MAX_BYTES // (1024 * 1024),
        "pdf": settings.UPLOAD_PDF_MAX_BYTES // (1024 * 1024),
    }


class EvidenceField(MultipleFileField):
    """The evidence files, their limits said under the field (read from settings when shown)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", lazy(files_help_text, str)())
        super().__init__(*args, **kwargs)


# One message, an answer, an appeal, a report: what a person writes in their own words.
WRITTEN_MAX_LENGTH = 4000


class WrittenField(forms.CharField):
    """A text area of up to WRITTEN_MAX_LENGTH characters; `too_short` is the message under
    `min_length` (it may say %(limit_value)d)."""

    def __init__(self, *args: Any, rows: int, too_short: str | Promise | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", WRITTEN_MAX_LENGTH)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        if too_short is not None:
            kwargs["error_messages"] = {"min_length": too_short}
        super().__init__(*args, **kwargs)


class MoneyField(forms.DecimalField):
    """An amount of money as people type it, in every money form (the site's and admin's):
    "1 000" and "1 000,50" (thousands apart with any space, a comma before the cents) are numbers,
    as "1000.50" is. Two places after the point at most; the bound is the caller's rule."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # the stubs inherit int
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return super().to_python(value)
        amount = amount_parse(str(value))
        if amount is None or not amount.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return amount


# A ModelAdmin's (or inline's) `formfield_overrides`: its money columns typed as on the site.
MONEY_INPUT: dict[type[models.Field], dict[str, Any]] = {models.DecimalField: {"form_class": MoneyField}}
