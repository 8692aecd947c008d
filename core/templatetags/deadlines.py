"""Deadlines as people read them: the date in the viewer's time zone with the zone's name, the
year only when it is not this year's, and what is left ("осталось 4 д 23 ч")."""

from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


def countdown(moment: datetime, now: datetime) -> tuple[int, ...]:
    """The figures left() words: (days, hours), (0, hours, minutes) under a day, (0, 0, minutes)
    under an hour; () when nothing is left."""
    seconds = int((moment - now).total_seconds())
    if seconds <= 0:
        return ()
    days_left, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days_left:
        return (days_left, hours)
    if hours:
        return (0, hours, minutes)
    return (0, 0, max(minutes, 1))


def left(moment: datetime, now: datetime) -> str:
    """What is left until `moment`, in days and hours (hours and minutes under a day)."""
    figures = countdown(moment, now)
    if not figures:
        return _("срок прошёл")
    if figures[0]:
        return _("осталось %(days)d д %(hours)d ч") % {"days": figures[0], "hours": figures[1]}
    if figures[1]:
        return _("осталось %(hours)d ч %(minutes)d мин") % {"hours": figures[1], "minutes": figures[2]}
    return _("осталось %(minutes)d мин") % {"minutes": figures[2]}


def when(moment: datetime, now: datetime) -> str:
    local = timezone.localtime(moment)
    same_year = local.year == timezone.localtime(now).year
    return formats.date_format(local, "j E, H:i T" if same_year else "j E Y, H:i T")


def deadline_as_of(moment: datetime, now: datetime) -> tuple[object, ...]:
    """What deadline(moment) draws at `now` besides the moment, the language and the zone: the
    year it compares the date's with, whether the moment has passed, and the countdown. A text
    kept with a deadline in it is the same while this is."""
    return (timezone.localtime(now).year, moment <= now, countdown(moment, now))


@register.filter
def machine_time(moment: datetime) -> str:
    """A `<time datetime>` value: ISO 8601 to the second (HTML allows at most milliseconds)."""
    return moment.isoformat(timespec="seconds")


@register.simple_tag
def deadline(moment: datetime | None, *, countdown: bool = True) -> SafeString | str:
    """`<time>6 декабря, 14:00 MSK</time> (осталось 4 д 23 ч)` for a deadline column."""
    if moment is None:
        return ""
    now = timezone.now()
    shown = format_html('<time datetime="{}">{}</time>', machine_time(moment), when(moment, now))
    if not countdown or moment <= now:
        return shown
    return format_html('{} <span class="countdown text-secondary">({})</span>', shown, left(moment, now))
