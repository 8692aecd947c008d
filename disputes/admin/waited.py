"""How long a claim has waited, as admin's `timesince` writes it, for every row of the claims queue
(disputes/admin/rows.py) on every request: the unit texts ("5 minutes") made once per language
and number in this process instead of translated anew for each row, and each text kept for as long
as it stays the same.

timesince(moment, now) counts whole years and months of the calendar from `moment`, then whole
weeks, days, hours and minutes from there (seconds ignored); all in UTC, as the database gives
moments and timezone.now() is. Its text can therefore change only at an instant when `now` reaches
one of `moment`'s minute marks (its second, with its microsecond or, past a month, without it) or
a midnight (when a month shorter than `moment`'s day ends). The text at `now` is the text at the
latest such instant (last_change_at()), under which it is kept; tests/test_admin_claim_kept_parts.py
checks the two against timesince() over moments and months of every kind.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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


def last_change_at(moment: datetime, now: datetime) -> datetime:
    """The latest instant at or before `now` at which the text of the time since `moment` (both in
    UTC) may change: a minute mark of `moment` (with or without its microsecond) or a midnight."""
    marks = [now.replace(hour=0, minute=0, second=0, microsecond=0)]
    for microsecond in {moment.microsecond, 0}:
        mark = now.replace(second=moment.second, microsecond=microsecond)
        marks.append(mark if mark <= now else mark - timedelta(minutes=1))
    return max(marks)


# Texts by language, moment and the last instant they may have changed at; emptied when full.
KEPT_TEXTS: dict[tuple[str | None, datetime, datetime], str] = {}
KEPT_TEXTS_MAX = 20_000


def waited_since(now: datetime) -> Callable[[datetime | None], str]:
    """The text of the time from a moment until `now` in the current language ("" for none)."""
    language = get_language()
    units = KEPT_UNITS.get(language) or KEPT_UNITS.setdefault(
        language, {name: KeptUnit(unit) for name, unit in TIME_STRINGS.items()}
    )
    # timesince() only ever applies `%` to the texts it is given (its own are lazy, not str).
    strings = cast("dict[str, str]", units)

    def since(moment: datetime | None) -> str:
        if not moment:
            return ""
        if moment.tzinfo is not UTC or now.tzinfo is not UTC:
            return timesince(moment, now, time_strings=strings)
        key = (language, moment, last_change_at(moment, now))
        text = KEPT_TEXTS.get(key)
        if text is None:
            if len(KEPT_TEXTS) >= KEPT_TEXTS_MAX:
                KEPT_TEXTS.clear()
            text = KEPT_TEXTS[key] = timesince(moment, now, time_strings=strings)
        return text

    return since
