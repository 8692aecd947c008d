"""Tracking numbers: one format wherever one is entered (the seller's shipping form, the buyer's
return form, admin, the logistics system's webhook, the services behind them).

The carriers' numbers are Latin letters and digits, sometimes with dashes (LP00123456789CN,
RA123456789RU, 1Z999AA10123456784, YT-2212345678901234). A number is kept in one spelling, so
that the webhook, which finds the order by its number, matches what the seller typed: spaces
removed (people copy "LP 0012 3456 789 CN" from a receipt) and letters in upper case. Anything
else is refused with a message next to the field, before it is stored: nothing but letters,
digits and dashes ever reaches a page, a mail or a CSV cell (a dash only between them, so a
number never starts like a spreadsheet formula).
"""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MIN_LENGTH = 6
MAX_LENGTH = 40
# What a person may type: spaces are dropped, so a spaced number still fits.
MAX_TYPED_LENGTH = 80
_FORMAT = re.compile(r"[A-Z0-9]+(?:-+[A-Z0-9]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def tracking_number_normalise(value: str) -> str:
    """The stored spelling: no whitespace anywhere, letters in upper case (checked after)."""
    return "".join(value.split()).upper()


def tracking_number_problem(number: str) -> str | None:
    """Why a normalised number cannot be a tracking number (words for the person), or None."""
    if not number:
        return str(_("Укажите трек-номер."))
    if _CYRILLIC.search(number):
        return str(_("Похоже, часть букв набрана по-русски: в трек-номере бывают только латинские буквы."))
    # isascii first: upper() turns a few non-Latin letters into Latin ones ("ı" into "I").
    if not number.isascii() or not _FORMAT.fullmatch(number):
        return str(
            _("В трек-номере бывают только латинские буквы, цифры и дефис между ними, например LP00123456789CN.")
        )
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        return str(
            _("В трек-номере от %(min)d до %(max)d знаков, а здесь %(count)d. Проверьте, всё ли скопировано.")
            % {"min": MIN_LENGTH, "max": MAX_LENGTH, "count": len(number)}
        )
    return None


def tracking_number_clean(value: str) -> str:
    """The normalised number; ValidationError with the reason when it is not one."""
    number = tracking_number_normalise(value)
    if (problem := tracking_number_problem(number)) is not None:
        raise ValidationError(problem, code="invalid_tracking_number")
    return number


class TrackingNumberField(forms.CharField):
    """A form field that normalises and checks a tracking number (required unless told)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_TYPED_LENGTH)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # On a phone: capitals, no spelling fixes, no suggestions from other forms.
        return {
            **super().widget_attrs(widget),
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
        }

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return tracking_number_clean(value) if value else value
