"""How long a claim has waited, as admin's `timesince` writes it, for every row of the claims queue
(disputes/admin/rows.py) on every request: the unit texts ("5 minutes") made once per language
and number in this process instead of translated anew for each row."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language


class KeptUnit:
    """One of timesince()'s unit texts ("%(num)d minutes", TIME_STRINGS) in one language, given to
    it in their place: the text for each number is made once."""

    def __init__(self, unit: Any) -> None:
        self.unit = unit
        self.texts: dict[int, str] = {}

    def __mod__(self, values: dict[str, int]) -> str:
        text = self.texts.get(values["num"])
        if text is None:
            text = self.texts[values["num"]] = str(self.unit % values)
        return text


# Per language (each one's texts are made while it is active).
KEPT_UNITS: dict[str | None, dict[str, KeptUnit]] = {}


def waited_since(now: datetime) -> Callable[[datetime | None], str]:
    """The text of the time from a moment until `now` in the current language ("" for none)."""
    language = get_language()
    units = KEPT_UNITS.get(language) or KEPT_UNITS.setdefault(
        language, {name: KeptUnit(unit) for name, unit in TIME_STRINGS.items()}
    )
    # timesince() only ever applies `%` to the texts it is given (its own are lazy, not str).
    strings = cast("dict[str, str]", units)
    return lambda moment: timesince(moment, now, time_strings=strings) if moment else ""
